using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace SharpVision.Web;

/// <summary>
/// Marks the prediction endpoints, whose handlers read the body themselves (raw image bytes or multipart files), so
/// the OpenAPI document can describe that body. Routing's own content-type matching is not used: a wrong type gets
/// the service's JSON 415, not an empty one.
/// </summary>
internal sealed class ImageBody
{
    public static readonly ImageBody Instance = new();

    /// <summary>An operation transformer: gives marked operations their request body (each raw type, and multipart files).</summary>
    public static Task Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellation)
    {
        if (!context.Description.ActionDescriptor.EndpointMetadata.OfType<ImageBody>().Any()) return Task.CompletedTask;
        var binary = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
        var content = Uploads.RawTypes.ToDictionary(t => t, _ => new OpenApiMediaType { Schema = binary });
        content["multipart/form-data"] = new OpenApiMediaType
        {
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "One or more files (any field name); each part's filename is echoed as the prediction's path",
                AdditionalProperties = binary,
            },
        };
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "A PNG, JPEG, GIF, BMP or WebP image, read by its content (raw body, named by the X-File-Name header) " +
                "or multipart/form-data files",
            Content = content,
        };
        return Task.CompletedTask;
    }
}
