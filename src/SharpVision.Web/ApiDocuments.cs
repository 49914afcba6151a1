namespace SharpVision.Web;

// The JSON documents of the API (snake_case on the wire). The prediction document is the one `sharpvision predict
// --json` prints, with the upload's file name where the CLI puts the file's path.

/// <summary>One class of an image's top-k.</summary>
/// <param name="Label">Class name.</param>
/// <param name="Index">Class index in the model's label order.</param>
/// <param name="Probability">The model's probability, rounded to 6 decimals.</param>
public sealed record ClassScore(string Label, int Index, double Probability);

/// <summary>One image's answer.</summary>
/// <param name="Path">The upload's file name (the multipart part's filename, the X-File-Name header, or "upload").</param>
/// <param name="Top">The k most likely classes, most likely first.</param>
public sealed record ImagePrediction(string Path, IReadOnlyList<ClassScore> Top);

/// <summary>The answer of <c>POST /predict</c> and <c>POST /v1/models/{name}/predict</c>.</summary>
/// <param name="Command">"predict", as in the CLI's document.</param>
/// <param name="Model">The served model's name.</param>
/// <param name="ModelPath">The model file.</param>
/// <param name="Sha256">The hash of the model version that answered.</param>
/// <param name="Predictions">One entry per image, in upload order.</param>
public sealed record PredictResponse(string Command, string Model, string ModelPath, string Sha256, IReadOnlyList<ImagePrediction> Predictions);

/// <summary>Every error: what went wrong, a stable code, and the status repeated.</summary>
/// <param name="Error">A sentence naming the problem (and the file or field).</param>
/// <param name="Code">"not_an_image", "undecodable_image", "too_many_pixels", "body_too_large", "unsupported_media_type",
/// "unknown_model", "queue_full", "deadline_exceeded", "stopping", ...</param>
/// <param name="Status">The HTTP status code.</param>
public sealed record ErrorResponse(string Error, string Code, int Status);

/// <summary>The answer of <c>GET /v1/models</c>.</summary>
/// <param name="Models">Each model's card; the first answers <c>POST /predict</c>.</param>
public sealed record ModelList(IReadOnlyList<ModelCard> Models);

/// <summary>The answer of <c>GET /healthz</c> and <c>GET /readyz</c>.</summary>
/// <param name="Status">"ok" (alive), "ready", "warming-up" or "stopping".</param>
/// <param name="Models">Per model, true when it is loaded and warmed up (readyz only).</param>
public sealed record HealthResponse(string Status, IReadOnlyDictionary<string, bool>? Models = null);
