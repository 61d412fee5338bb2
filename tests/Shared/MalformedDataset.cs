using System.Text;

namespace Riverbed.Testing;

/// <summary>
/// A ShareGPT JSON Lines file with one malformed record of each kind at a known line (checklist B1, B3, B11), plus
/// benign variations that must not be rejected (CRLF, a blank line, no final newline after a bad last line).
/// </summary>
internal static class MalformedDataset
{
    /// <summary>The limit the file is read with, so line 15 is over it and every other line is under it.</summary>
    public const int MaxLineBytes = 4096;

    /// <summary>(1-based line, reject kind) of every bad record, in file order.</summary>
    public static readonly IReadOnlyList<(int Line, string Kind)> Rejects =
    [
        (2, "invalid_json"), // truncated object
        (3, "invalid_json"), // trailing garbage
        (4, "invalid_json"), // bad escape
        (5, "invalid_json"), // lone surrogate escape
        (6, "invalid_json"), // NaN
        (7, "duplicate_key"),
        (8, "too_deep"), // nesting 1000
        (9, "unexpected_bom"), // BOM mid-file
        (10, "invalid_utf8"), // FF
        (11, "invalid_utf8"), // overlong C0 AF
        (12, "invalid_utf8"), // surrogate ED A0 80
        (15, "line_too_long"),
        (16, "not_an_object"),
        (17, "missing_field"),
        (18, "wrong_type"),
        (19, "unknown_role"),
        (20, "no_bot_turn"),
        (22, "invalid_utf8"), // truncated multi-byte character at the end of the file
    ];

    /// <summary>Lines that hold good records (line 13 ends with CRLF; line 14 is blank).</summary>
    public static readonly IReadOnlyList<int> GoodLines = [1, 13, 21];

    public const int BlankLines = 1;

    public static byte[] Bytes()
    {
        const string turns = "\"conversations\":[{\"from\":\"human\",\"value\":\"hi\"},{\"from\":\"gpt\",\"value\":\"hello\"}]";
        var file = new MemoryStream();
        void Line(string text, string end = "\n") => Raw(Encoding.UTF8.GetBytes(text + end));
        void Raw(byte[] bytes) => file.Write(bytes);
        Line($"{{\"id\":\"r1\",{turns}}}");
        Line("{\"id\":\"r2\",\"conversations\":[{\"from\":\"human\"");
        Line($"{{\"id\":\"r3\",{turns}}} xyz");
        Line("{\"id\":\"r4\",\"conversations\":[{\"from\":\"human\",\"value\":\"a\\qb\"},{\"from\":\"gpt\",\"value\":\"x\"}]}");
        Line("{\"id\":\"r5\",\"conversations\":[{\"from\":\"human\",\"value\":\"\\ud800x\"},{\"from\":\"gpt\",\"value\":\"x\"}]}");
        Line($"{{\"id\":\"r6\",\"score\":NaN,{turns}}}");
        Line($"{{\"id\":\"r7\",\"id\":\"r7b\",{turns}}}");
        Line($"{{\"id\":\"r8\",\"deep\":{new string('[', 1000)}{new string(']', 1000)},{turns}}}");
        Raw([0xEF, 0xBB, 0xBF]);
        Line($"{{\"id\":\"r9\",{turns}}}");
        Raw(Encoding.UTF8.GetBytes("{\"id\":\"r10\",\"note\":\"bad "));
        Raw([0xFF]);
        Line($"\",{turns}}}");
        Raw(Encoding.UTF8.GetBytes("{\"id\":\"r11\",\"note\":\""));
        Raw([0xC0, 0xAF]);
        Line($"\",{turns}}}");
        Raw(Encoding.UTF8.GetBytes("{\"id\":\"r12\",\"note\":\""));
        Raw([0xED, 0xA0, 0x80]);
        Line($"\",{turns}}}");
        Line($"{{\"id\":\"r13\",{turns}}}", "\r\n");
        Line("   ");
        Line($"{{\"id\":\"r15\",\"note\":\"{new string('x', MaxLineBytes + 100)}\",{turns}}}");
        Line("[1,2]");
        Line("{\"id\":\"r17\"}");
        Line("{\"id\":\"r18\",\"conversations\":\"hello\"}");
        Line("{\"id\":\"r19\",\"conversations\":[{\"from\":\"human\",\"value\":\"hi\"},{\"from\":\"narrator\",\"value\":\"x\"}]}");
        Line("{\"id\":\"r20\",\"conversations\":[{\"from\":\"human\",\"value\":\"hi\"}]}");
        Line($"{{\"id\":\"r21\",{turns}}}");
        Raw(Encoding.UTF8.GetBytes($"{{\"id\":\"r22\",{turns},\"x\":\""));
        Raw([0xE2, 0x82]);
        return file.ToArray();
    }
}
