using System.Reflection;
using System.Text.RegularExpressions;
using Riverbed.Inference.Native;

namespace Riverbed.Core.Tests.Inference;

public sealed partial class OrtApiSlotsTests
{
    /// <summary>
    /// Every slot the binding calls is the position of the same-named member of struct OrtApi in the header that
    /// setup.sh installs: a wrong slot would call the wrong function with the wrong arguments.
    /// </summary>
    [Fact]
    public void Every_slot_the_binding_calls_matches_the_installed_header()
    {
        var header = Path.Combine(TestPaths.RepositoryRoot, ".native", "onnxruntime", "include", "onnxruntime_c_api.h");
        var members = ParseOrtApiMembers(File.ReadAllText(header));

        var slots = typeof(OrtApiSlots).GetFields(BindingFlags.Public | BindingFlags.Static);

        Assert.True(members.Count > 400, $"parsed only {members.Count} members from {header}");
        Assert.NotEmpty(slots);
        Assert.All(slots, slot => Assert.Equal(members.IndexOf(slot.Name), (int)slot.GetRawConstantValue()!));
    }

    /// <summary>Member names of struct OrtApi in declaration order, comments removed.</summary>
    private static List<string> ParseOrtApiMembers(string header)
    {
        var start = header.IndexOf("struct OrtApi {", StringComparison.Ordinal);
        var depth = 0;
        var end = start;
        for (var i = header.IndexOf('{', start); i < header.Length; i++)
        {
            depth += header[i] == '{' ? 1 : header[i] == '}' ? -1 : 0;
            if (depth == 0)
            {
                end = i;
                break;
            }
        }
        var body = LineComment().Replace(BlockComment().Replace(header[start..end], " "), " ");
        var names = new List<string>();
        foreach (var declaration in body[(body.IndexOf('{', StringComparison.Ordinal) + 1)..].Split(';'))
        {
            var match = Member().Match(declaration);
            if (match.Success)
            {
                names.Add(match.Groups["release"].Success ? "Release" + match.Groups["release"].Value : match.Groups["name"].Value);
            }
        }
        return names;
    }

    [GeneratedRegex(@"/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex BlockComment();

    [GeneratedRegex(@"//[^\n]*")]
    private static partial Regex LineComment();

    [GeneratedRegex(@"ORT_API2?_STATUS\(\s*(?<name>\w+)|ORT_CLASS_RELEASE2?\(\s*(?<release>\w+)\s*\)|\(\s*ORT_API_CALL\s*\*\s*(?<name>\w+)\s*\)|ORT_API_T\(\s*[^,]+,\s*(?<name>\w+)")]
    private static partial Regex Member();
}
