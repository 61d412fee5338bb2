namespace Riverbed.Tokenization.Processing;

/// <summary>What post-processors need besides the encodings: the option, the draft pool and the original texts
/// (offset trimming counts characters in them, as HF does).</summary>
internal readonly ref struct ProcessingContext(bool addSpecialTokens, DraftPool pool, List<DraftEncoding> scratch,
    ReadOnlySpan<char> first, ReadOnlySpan<char> second)
{
    public bool AddSpecialTokens { get; } = addSpecialTokens;

    public DraftPool Pool { get; } = pool;

    /// <summary>A list a processor may use while it builds its output (cleared by whoever uses it).</summary>
    public List<DraftEncoding> Scratch { get; } = scratch;

    public ReadOnlySpan<char> First { get; } = first;

    public ReadOnlySpan<char> Second { get; } = second;
}

/// <summary>
/// A tokenizer.json post-processor: adds the model's special tokens around the sequences and sets type ids (HF's
/// <c>process_encodings</c>, which maps a list of encodings to a list of encodings that are then concatenated).
/// </summary>
internal abstract class PostProcessor
{
    /// <summary>How many tokens processing adds (truncation keeps room for them).</summary>
    public abstract int AddedTokens(bool isPair);

    public abstract void ProcessEncodings(List<DraftEncoding> encodings, ProcessingContext context);

    /// <summary>The special tokens this processor inserts (for vocabulary facts such as the [CLS] id).</summary>
    public abstract IEnumerable<(string Token, int Id)> InsertedTokens();
}

/// <summary>A special token as a template names it: one or more ids (usually one).</summary>
internal sealed record TemplateSpecialToken(string Name, int[] Ids, string[] Tokens);

/// <summary>One piece of a template: a sequence ($A / $B) or a special token, with its type id.</summary>
internal sealed record TemplatePiece(bool IsSequence, int Sequence, TemplateSpecialToken? Special, int TypeId);

/// <summary>HF's TemplateProcessing: e.g. single <c>[CLS] $A [SEP]</c>, pair <c>[CLS] $A [SEP] $B:1 [SEP]:1</c>.</summary>
internal sealed class TemplateProcessor(IReadOnlyList<TemplatePiece> single, IReadOnlyList<TemplatePiece> pair)
    : PostProcessor
{
    // Arrays: foreach over an interface would box an enumerator on every call.
    public TemplatePiece[] Single { get; } = [.. single];

    public TemplatePiece[] Pair { get; } = [.. pair];

    public override int AddedTokens(bool isPair) =>
        (isPair ? Pair : Single).Where(p => !p.IsSequence).Sum(p => p.Special!.Ids.Length);

    public override void ProcessEncodings(List<DraftEncoding> encodings, ProcessingContext context)
    {
        var pool = context.Pool;
        TemplatePiece[] template = encodings.Count switch
        {
            1 => Single,
            2 => Pair,
            _ => throw new TokenizationException(
                $"TemplateProcessing received {encodings.Count} encodings; it handles a single sequence or a pair."),
        };
        var output = context.Scratch;
        output.Clear();
        Span<bool> used = stackalloc bool[2];
        foreach (var piece in template)
        {
            if (piece.IsSequence)
            {
                var source = encodings[piece.Sequence];
                // The input encodings are consumed: the first use of each takes it as it is, a repeat gets a copy.
                var copy = source;
                if (used[piece.Sequence])
                {
                    copy = pool.Rent();
                    copy.Append(source);
                    copy.IsOverflow = source.IsOverflow;
                }
                used[piece.Sequence] = true;
                // HF sets the template's type id on the main encoding only; overflowing windows keep their own.
                if (!source.IsOverflow)
                {
                    copy.SetTypeIds(piece.TypeId);
                }
                copy.SetSequenceId(piece.Sequence);
                output.Add(copy);
            }
            else if (context.AddSpecialTokens)
            {
                var special = pool.Rent();
                var token = piece.Special!;
                for (var i = 0; i < token.Ids.Length; i++)
                {
                    special.AppendSpecial(token.Ids[i], token.Tokens[i], piece.TypeId);
                }
                output.Add(special);
            }
        }
        encodings.Clear();
        foreach (var encoding in output)
        {
            encodings.Add(encoding);
        }
    }

    public override IEnumerable<(string Token, int Id)> InsertedTokens() =>
        Single.Concat(Pair).Where(p => !p.IsSequence)
            .SelectMany(p => p.Special!.Tokens.Zip(p.Special.Ids));
}

/// <summary>HF's BertProcessing: <c>[CLS] A [SEP]</c> and <c>[CLS] A [SEP] B [SEP]</c>, B's tokens with type id 1.</summary>
internal sealed class BertProcessor((string Token, int Id) sep, (string Token, int Id) cls) : PostProcessor
{
    public override int AddedTokens(bool isPair) => isPair ? 3 : 2;

    public override void ProcessEncodings(List<DraftEncoding> encodings, ProcessingContext context)
    {
        if (!context.AddSpecialTokens)
        {
            return;
        }
        for (var i = 0; i < encodings.Count; i++)
        {
            var inner = encodings[i];
            var wrapped = context.Pool.Rent();
            wrapped.IsOverflow = inner.IsOverflow;
            if (i == 0)
            {
                wrapped.AppendSpecial(cls.Id, cls.Token, 0);
            }
            inner.SetSequenceId(i == 0 ? 0 : 1);
            wrapped.Append(inner);
            wrapped.AppendSpecial(sep.Id, sep.Token, i == 0 ? 0 : 1);
            encodings[i] = wrapped;
        }
    }

    public override IEnumerable<(string Token, int Id)> InsertedTokens() => [cls, sep];
}

/// <summary>
/// HF's RobertaProcessing: <c>&lt;s&gt; A &lt;/s&gt;</c> and <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c>, every type
/// id 0, and (with trim_offsets) offsets that leave out the spaces byte-level tokens carry.
/// </summary>
internal sealed class RobertaProcessor((string Token, int Id) sep, (string Token, int Id) cls, bool trimOffsets,
    bool addPrefixSpace) : PostProcessor
{
    public override int AddedTokens(bool isPair) => isPair ? 4 : 2;

    public override void ProcessEncodings(List<DraftEncoding> encodings, ProcessingContext context)
    {
        foreach (var encoding in encodings)
        {
            if (trimOffsets)
            {
                encoding.TrimOffsets(addPrefixSpace, context.First, context.Second);
            }
            // HF zeroes the type ids of the main encodings here; overflowing windows only when it wraps them below.
            if (!encoding.IsOverflow)
            {
                encoding.SetTypeIds(0);
            }
        }
        if (!context.AddSpecialTokens)
        {
            return;
        }
        for (var i = 0; i < encodings.Count; i++)
        {
            var inner = encodings[i];
            var wrapped = context.Pool.Rent();
            wrapped.IsOverflow = inner.IsOverflow;
            wrapped.AppendSpecial(i == 0 ? cls.Id : sep.Id, i == 0 ? cls.Token : sep.Token, 0);
            inner.SetTypeIds(0);
            inner.SetSequenceId(i == 0 ? 0 : 1);
            wrapped.Append(inner);
            wrapped.AppendSpecial(sep.Id, sep.Token, 0);
            encodings[i] = wrapped;
        }
    }

    public override IEnumerable<(string Token, int Id)> InsertedTokens() => [cls, sep];
}

/// <summary>HF's ByteLevel post-processor: adds nothing; optionally trims offsets of byte-level spaces.</summary>
internal sealed class ByteLevelProcessor(bool trimOffsets, bool addPrefixSpace) : PostProcessor
{
    public override int AddedTokens(bool isPair) => 0;

    public override void ProcessEncodings(List<DraftEncoding> encodings, ProcessingContext context)
    {
        for (var i = 0; i < encodings.Count; i++)
        {
            if (trimOffsets)
            {
                encodings[i].TrimOffsets(addPrefixSpace, context.First, context.Second);
            }
            encodings[i].SetSequenceId(i);
        }
    }

    public override IEnumerable<(string Token, int Id)> InsertedTokens() => [];
}

/// <summary>Applies several post-processors in order.</summary>
internal sealed class SequenceProcessor(IReadOnlyList<PostProcessor> processors) : PostProcessor
{
    public PostProcessor[] Processors { get; } = [.. processors];

    public override int AddedTokens(bool isPair) => Processors.Sum(p => p.AddedTokens(isPair));

    public override void ProcessEncodings(List<DraftEncoding> encodings, ProcessingContext context)
    {
        foreach (var processor in Processors)
        {
            processor.ProcessEncodings(encodings, context);
        }
    }

    public override IEnumerable<(string Token, int Id)> InsertedTokens() =>
        Processors.SelectMany(p => p.InsertedTokens());
}
