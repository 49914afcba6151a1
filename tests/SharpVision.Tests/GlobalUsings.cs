global using Xunit;
global using SharpVision.Tests.Support;
