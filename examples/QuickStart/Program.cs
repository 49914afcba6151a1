// Fit k-NN and softmax on Fashion-MNIST, compare them, save one, load it back and classify an image file.
using SharpVision;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Training;

// The full Fashion-MNIST where it is installed, else the 2,000/500-image sample that ships in the package.
var data = DatasetLoader.Load(args.Length > 0 ? args[0] : "fashion-mnist");
Console.WriteLine($"{data.Train.Count:N0} training and {data.Test.Count:N0} test images{(data.IsSample ? " (shipped sample)" : "")}");

var knn = new KNearestNeighbors(new KNearestNeighborsOptions(K: 5, Metric: DistanceMetric.Manhattan)).Fit(data.Train);
var softmax = new NetworkTrainer(new NetworkSpec("softmax")).Fit(data.Train);
Console.WriteLine($"k-NN accuracy:    {knn.Score(data.Test):P1}");
Console.WriteLine($"softmax accuracy: {softmax.Score(data.Test):P1}");

softmax.Save("softmax.safetensors");
PngEncoder.Save(data.Test.ToImage(0), "test-0.png"); // an image file to classify

var model = ModelFile.Load("softmax.safetensors");
var prediction = model.Predict(model.Preparation.Prepare(ImageDecoder.Load("test-0.png")));
int label = prediction.Label(0);
Console.WriteLine($"test-0.png: {model.ClassNames[label]} ({prediction.ProbabilitiesOf(0)[label]:P0}), " +
    $"truly {data.Test.ClassNames[data.Test.Labels[0]]}");
