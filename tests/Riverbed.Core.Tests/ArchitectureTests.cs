using System.Reflection;
using System.Reflection.Emit;

namespace Riverbed.Core.Tests;

/// <summary>
/// The design map (../shared/design.md) says which place may use which. These tests read what the compiled code really
/// references — signatures, fields, locals, attributes and every type, method and field token in the IL — so a
/// fully-qualified name or a `global using` cannot slip past them the way it could past a grep for `using` lines.
/// </summary>
public sealed class ArchitectureTests
{
    // Each place and the places it may use (besides itself and the root namespace, which holds the shared error
    // types). Anything not listed is a "must not know": e.g. Inference knows no tokenizer, Scoring calls no session
    // and touches no storage, IO knows neither scores nor models, Pipeline knows no ranks.
    private static readonly Dictionary<string, string[]> MayUse = new()
    {
        ["Tokenization"] = [],
        ["Inference"] = [],
        ["IO"] = [],
        ["Scoring"] = ["Tokenization"],
        ["Pipeline"] = ["Tokenization", "Inference", "IO", "Scoring"],
        ["Sharding"] = ["IO", "Pipeline"],
        ["ModelKit"] = ["Inference", "Tokenization"],
    };

    private static readonly Assembly Core = typeof(RiverbedException).Assembly;
    private static readonly Assembly ModelKit = typeof(Riverbed.ModelKit.DemoModels).Assembly;
    private static readonly Assembly[] Checked = [Core, ModelKit];

    public static TheoryData<string> Places() => new(MayUse.Keys);

    [Theory]
    [MemberData(nameof(Places))]
    public void A_place_references_only_the_places_the_design_lets_it_use(string place)
    {
        var breaches = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in Checked.SelectMany(a => a.GetTypes()).Where(t => PlaceOf(t) == place))
        {
            foreach (var used in References(type))
            {
                var other = PlaceOf(used);
                if (other is null || other == place || MayUse[place].Contains(other))
                {
                    continue;
                }

                breaches.Add($"{Describe(type)} uses {other} ({Describe(used)})");
            }
        }

        Assert.True(breaches.Count == 0, $"{place} must not know:\n  " + string.Join("\n  ", breaches));
    }

    [Fact]
    public void Every_core_type_lives_in_a_place_of_the_map()
    {
        var strays = Checked.SelectMany(a => a.GetTypes())
            .Where(t => t.Namespace is { } ns && ns.StartsWith("Riverbed", StringComparison.Ordinal) && ns != "Riverbed")
            .Where(t => PlaceOf(t) is null)
            .Select(Describe)
            .ToList();

        Assert.Empty(strays);
    }

    [Fact]
    public void The_core_references_neither_the_command_line_nor_the_model_kit()
    {
        var names = Core.GetReferencedAssemblies().Select(a => a.Name ?? "").ToList();

        Assert.DoesNotContain("Riverbed.ModelKit", names);
        Assert.DoesNotContain(names, n => n.StartsWith("Riverbed.Runner", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.StartsWith("System.CommandLine", StringComparison.Ordinal));
    }

    [Fact]
    public void The_reference_reader_sees_a_call_made_only_inside_a_method_body()
    {
        // Guards the guard: a type whose only link to another namespace is a call in a method body must still be
        // reported, otherwise the rules above would pass vacuously for such code.
        var used = References(typeof(BodyOnlyCaller)).ToList();

        Assert.Contains(typeof(Path), used);
        Assert.DoesNotContain(typeof(Path), SignatureReferences(typeof(BodyOnlyCaller)));
    }

    private static class BodyOnlyCaller
    {
        public static int Length(string text) => Path.GetFileName(text).Length;
    }

    private static string? PlaceOf(Type type)
    {
        var ns = type.Namespace;
        if (ns is null || !ns.StartsWith("Riverbed.", StringComparison.Ordinal))
        {
            return null;
        }

        var first = ns["Riverbed.".Length..].Split('.')[0];
        return MayUse.ContainsKey(first) ? first : null;
    }

    private static string Describe(Type type) => type.FullName ?? type.Name;

    private static HashSet<Type> References(Type type)
    {
        var found = new HashSet<Type>();
        foreach (var t in SignatureReferences(type))
        {
            Add(found, t);
        }

        foreach (var method in Members<MethodBase>(type))
        {
            foreach (var t in BodyReferences(method))
            {
                Add(found, t);
            }
        }

        return found;
    }

    private const BindingFlags Everything =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static IEnumerable<T> Members<T>(Type type) where T : MemberInfo =>
        type.GetMembers(Everything).OfType<T>();

    private static IEnumerable<Type> SignatureReferences(Type type)
    {
        if (type.BaseType is { } baseType)
        {
            yield return baseType;
        }

        foreach (var t in type.GetInterfaces())
        {
            yield return t;
        }

        foreach (var a in type.GetCustomAttributesData())
        {
            yield return a.AttributeType;
        }

        foreach (var field in Members<FieldInfo>(type))
        {
            yield return field.FieldType;
        }

        foreach (var property in Members<PropertyInfo>(type))
        {
            yield return property.PropertyType;
        }

        foreach (var method in Members<MethodBase>(type))
        {
            if (method is MethodInfo info)
            {
                yield return info.ReturnType;
            }

            foreach (var parameter in method.GetParameters())
            {
                yield return parameter.ParameterType;
            }

            foreach (var a in method.GetCustomAttributesData())
            {
                yield return a.AttributeType;
            }
        }
    }

    private static IEnumerable<Type> BodyReferences(MethodBase method)
    {
        MethodBody? body;
        try
        {
            body = method.GetMethodBody();
        }
        catch (InvalidOperationException)
        {
            yield break;
        }

        if (body is null)
        {
            yield break;
        }

        foreach (var local in body.LocalVariables)
        {
            yield return local.LocalType;
        }

        var il = body.GetILAsByteArray() ?? [];
        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var at = 0; at < il.Length;)
        {
            var code = il[at] == 0xFE ? TwoByte[il[at + 1]] : OneByte[il[at]];
            at += code.Size;
            var operand = code.OperandType;
            if (operand is OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineType or OperandType.InlineTok)
            {
                var token = BitConverter.ToInt32(il, at);
                var member = method.Module.ResolveMember(token, typeArguments, methodArguments);
                switch (member)
                {
                    case Type t:
                        yield return t;
                        break;
                    case FieldInfo f:
                        yield return f.DeclaringType!;
                        yield return f.FieldType;
                        break;
                    case MethodBase m:
                        if (m.DeclaringType is { } owner)
                        {
                            yield return owner;
                        }

                        if (m is MethodInfo { IsGenericMethod: true } generic)
                        {
                            foreach (var g in generic.GetGenericArguments())
                            {
                                yield return g;
                            }
                        }

                        break;
                }
            }

            at += OperandSize(operand, il, at);
        }
    }

    private static int OperandSize(OperandType operand, byte[] il, int at) => operand switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
        _ => 4,
    };

    private static readonly OpCode[] OneByte = new OpCode[256];
    private static readonly OpCode[] TwoByte = new OpCode[256];

    static ArchitectureTests()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var code = (OpCode)field.GetValue(null)!;
            var value = (ushort)code.Value;
            if (code.Size == 1)
            {
                OneByte[value] = code;
            }
            else
            {
                TwoByte[value & 0xFF] = code;
            }
        }
    }

    private static void Add(HashSet<Type> found, Type type)
    {
        // Unwrap arrays, by-refs, pointers and generic instantiations: List<Inference.Tensor> uses Inference.
        if (type.HasElementType)
        {
            Add(found, type.GetElementType()!);
            return;
        }

        if (type.IsGenericParameter)
        {
            return;
        }

        if (!found.Add(type))
        {
            return;
        }

        if (type.IsConstructedGenericType)
        {
            foreach (var argument in type.GetGenericArguments())
            {
                Add(found, argument);
            }
        }
    }
}
