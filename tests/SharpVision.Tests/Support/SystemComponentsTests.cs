using System.Reflection;
using SharpVision.Tests.Reports;

namespace SharpVision.Tests.Support;

/// <summary>A test that cannot run for want of an optional component is reported as skipped, never as passed.</summary>
public class SystemComponentsTests
{
    [Fact]
    public void SkipReason_MissingComponent_SkipsWithTheReason_ExceptUnderCi()
    {
        Assert.Equal("skipped: /usr/bin/chromium not found (Debian package chromium)", SystemComponents.SkipReason("/usr/bin/chromium not found (Debian package chromium)", null));
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
            Assert.True(attribute is RequiresFactAttribute f && f.Component == component || attribute is RequiresTheoryAttribute t && t.Component == component,
                $"{type.Name}.{name} needs {component} but is a plain [{attribute.GetType().Name}]: without it, it would pass instead of being skipped.");
    }
}
