using Mono.Cecil;
using Mono.Cecil.Cil;

namespace SharpVision.Tests.Layering;

/// <summary>
/// Which of SharpVision's components use which, read from the compiled assemblies: every type a type's signatures,
/// attributes and method bodies refer to. A component is a namespace under SharpVision cut to its first segment
/// ("SharpVision.Data.Download" is Data; the root namespace is "(root)"); the Tensors assembly is one component.
/// </summary>
internal static class NamespaceDependencies
{
    /// <summary>The component of a namespace, or null outside SharpVision.</summary>
    public static string? Component(string? ns)
    {
        if (ns is null || !(ns == "SharpVision" || ns.StartsWith("SharpVision.", StringComparison.Ordinal))) return null;
        if (ns == "SharpVision") return "(root)";
        var first = ns.Split('.')[1];
        return first is "Tests" or "Bench" ? null : first;
    }

    /// <summary>Component → the components it uses (itself excluded), with one example reference each.</summary>
    public static Dictionary<string, Dictionary<string, string>> Read(IEnumerable<string> assemblyPaths)
    {
        var edges = new Dictionary<string, Dictionary<string, string>>();
        foreach (var path in assemblyPaths)
        {
            using var module = ModuleDefinition.ReadModule(path);
            foreach (var type in module.GetTypes())
            {
                var from = Component(Outermost(type).Namespace);
                if (from is null) continue;
                if (!edges.TryGetValue(from, out var targets)) edges[from] = targets = [];
                void Use(TypeReference? reference, string where)
                {
                    foreach (var t in Expand(reference))
                    {
                        var to = Component(Outermost(t).Namespace);
                        if (to is not null && to != from) targets.TryAdd(to, $"{type.FullName} → {t.FullName} ({where})");
                    }
                }
                Use(type.BaseType, "base type");
                foreach (var i in type.Interfaces) Use(i.InterfaceType, "interface");
                foreach (var a in type.CustomAttributes) Use(a.AttributeType, "attribute");
                foreach (var f in type.Fields) Use(f.FieldType, $"field {f.Name}");
                foreach (var p in type.Properties) Use(p.PropertyType, $"property {p.Name}");
                foreach (var e in type.Events) Use(e.EventType, $"event {e.Name}");
                foreach (var m in type.Methods)
                {
                    Use(m.ReturnType, $"{m.Name} return");
                    foreach (var p in m.Parameters) Use(p.ParameterType, $"{m.Name} parameter");
                    foreach (var a in m.CustomAttributes) Use(a.AttributeType, $"{m.Name} attribute");
                    if (!m.HasBody) continue;
                    foreach (var v in m.Body.Variables) Use(v.VariableType, $"{m.Name} local");
                    foreach (var instruction in m.Body.Instructions)
                    {
                        switch (instruction.Operand)
                        {
                            case TypeReference t: Use(t, m.Name); break;
                            case MethodReference r:
                                Use(r.DeclaringType, m.Name);
                                Use(r.ReturnType, m.Name);
                                if (r is GenericInstanceMethod g) foreach (var arg in g.GenericArguments) Use(arg, m.Name);
                                break;
                            case FieldReference f:
                                Use(f.DeclaringType, m.Name);
                                Use(f.FieldType, m.Name);
                                break;
                        }
                    }
                }
            }
        }
        return edges;
    }

    private static TypeReference Outermost(TypeReference type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type;
    }

    // A type and the types it is made of: element types of arrays, pointers and by-refs, generic arguments.
    private static IEnumerable<TypeReference> Expand(TypeReference? type)
    {
        if (type is null || type is GenericParameter) yield break;
        switch (type)
        {
            case GenericInstanceType g:
                foreach (var t in Expand(g.ElementType)) yield return t;
                foreach (var arg in g.GenericArguments)
                    foreach (var t in Expand(arg)) yield return t;
                yield break;
            case TypeSpecification spec:
                foreach (var t in Expand(spec.ElementType)) yield return t;
                yield break;
            default:
                yield return type;
                yield break;
        }
    }
}
