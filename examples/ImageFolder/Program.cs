// Train on your own images: a folder holding one subfolder of PNG or JPEG files per class.
//   dotnet run -- PHOTOS     PHOTOS/<class>/* (20 % of each class held out for testing), or PHOTOS/train/<class>/* + PHOTOS/test/<class>/*
// Without PHOTOS it first writes a small demo folder (three Fashion-MNIST classes as PNG files) and trains on that.
using SharpVision;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Imaging;
using SharpVision.Training;

string root = args.Length > 0 ? args[0] : WriteDemoFolder("image-folder-demo", ["Trouser", "Sneaker", "Bag"], perClass: 80);

// Every image becomes gray 32×32 (area averaging when shrinking); unreadable files are skipped and listed.
var folder = ImageFolderLoader.Load(root, new ImageFolderOptions(Channels: 1, Height: 32, Width: 32, TestFraction: 0.2, SkipCorrupt: true));
foreach (var (path, reason) in folder.Skipped) Console.WriteLine($"skipped {path}: {reason}");
var (train, test) = (folder.Splits.Train, folder.Splits.Test);
Console.WriteLine($"classes {string.Join(", ", train.ClassNames)}: {train.Count} training and {test.Count} test images");

// k-NN on raw pixels against a linear SVM on HOG features (gradient orientations per 8×8 cell, standardized on train).
var knn = new KNearestNeighbors(new KNearestNeighborsOptions(K: 3)).Fit(train);
var hogSvm = new NetworkTrainer(new NetworkSpec("svm", Features: FeaturePipeline.Parse("hog:cell=8"))).Fit(train);
Console.WriteLine($"k-NN on pixels: {knn.Score(test):P1}");
Console.WriteLine($"SVM on HOG:     {hogSvm.Score(test):P1}");
hogSvm.Save("hog-svm.safetensors");

// Writes PNG files of some training images of the named classes, one subfolder per class.
static string WriteDemoFolder(string root, string[] classes, int perClass)
{
    var train = DatasetLoader.Load("fashion-mnist").Train;
    foreach (var name in classes)
    {
        int label = train.ClassNames.ToList().IndexOf(name);
        Directory.CreateDirectory(Path.Combine(root, name));
        var indices = Enumerable.Range(0, train.Count).Where(i => train.Labels[i] == label).Take(perClass);
        foreach (int i in indices) PngEncoder.Save(train.ToImage(i), Path.Combine(root, name, $"{i:D5}.png"));
    }
    return root;
}
