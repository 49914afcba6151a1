using System.Reflection;
using SharpVision.Tests.Reports;

namespace SharpVision.Tests.Support;

/// <summary>A test that cannot run for want of an optional component is reported as skipped, never as passed.</summary>
public class SystemComponentsTests
{
    [Fact]
    public void SkipReason_MissingComponent_SkipsWithTheReason_ExceptUnderCi()
    {
        const string missing = "/usr/bin/chromium not found (Debian package chromium)";
        Assert.Equal($"skipped: {missing}", SystemComponents.SkipReason(missing, null));
        Assert.Equal("skipped: x", SystemComponents.SkipReason("x", "false"));
        Assert.Null(SystemComponents.SkipReason("x", "true")); // CI=true runs it, and Require fails it
        Assert.Null(SystemComponents.SkipReason(null, null));
    }

    [Theory]
    [InlineData(typeof(ReportBrowserTests), SystemComponent.Chromium)]
    [InlineData(typeof(SharpVision.Tests.Tensors.GemmTests), SystemComponent.OpenBlas)]
    public void TestsOfAnOptionalComponent_DeclareIt_SoXunitCanSkipThem(Type type, SystemComponent component)
    {
        var declared = type.GetMethods().SelectMany(m => m.GetCustomAttributes<FactAttribute>().Select(a => (m.Name, Attribute: a)))
            .Where(t => t.Name.Contains(component == SystemComponent.Chromium ? "Chromium" : "OpenBlas", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(declared);
        foreach (var (name, attribute) in declared)
        {
            bool declares = attribute is RequiresFactAttribute f && f.Component == component
                || attribute is RequiresTheoryAttribute t && t.Component == component;
            Assert.True(declares,
                $"{type.Name}.{name} needs {component} but is a plain [{attribute.GetType().Name}]: it would pass instead of being skipped.");
        }
    }
}
