using System.Reflection;
using System.Text;
using Riverbed.Inference.ModelFolders;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Pipeline;

/// <summary>
/// The configuration hash is what lets a rerun skip a shard: an option that changes the scores but not the hash would let
/// a rerun keep shards scored with other settings. Every option of the records a run is configured with is changed in
/// turn, so an option added to them is either hashed (and recorded) or listed here with the reason it is not.
/// </summary>
public sealed class ConfigurationHashTests
{
    /// <summary>Options, by path from <see cref="RunConfiguration"/>, that do not change a run's scores, and why.</summary>
    private static readonly Dictionary<string, string> NotPartOfTheResult = new(StringComparer.Ordinal)
    {
        // Issue 16 took decisions out of the hash on purpose: each manifest records its rule and a rerun re-decides.
        ["Policy"] = "thresholds decide which rows are kept, never the scores",
        // The models enter the hash through the SHA-256 of every file they read, so moving the folder changes nothing.
        ["ModelsFolder"] = "where the models are, not what they are",
        ["Execution"] = "device, sessions, threads, batch size and examples in flight change speed, not scores",
        ["Reader.ParquetThreads"] = "DuckDB's scan threads read the same rows",
    };

    /// <summary>Options not even recorded in run.json's configuration, and why.</summary>
    private static readonly Dictionary<string, string> NotRecorded = new(StringComparer.Ordinal)
    {
        ["Reader.ParquetThreads"] = "a reading detail of this process, fixed at 1 by the command line",
    };

    /// <summary>The records a run's configuration is made of; their properties are walked into.</summary>
    private static readonly Type[] OptionRecords =
        [typeof(ReaderOptions), typeof(SchemaOptions), typeof(ReaderLimits), typeof(ScoringOptions), typeof(ExecutionSettings)];

    [Fact]
    public void Every_option_changes_the_hash_or_is_listed_as_not_part_of_the_result_and_is_recorded()
    {
        var baseline = PersistedFormatTests.Configuration();
        var problems = new List<string>();
        var checkedOptions = new List<string>();

        foreach (var (path, changed) in Variants(baseline, typeof(RunConfiguration), string.Empty, value => value))
        {
            var configuration = (RunConfiguration)changed;
            checkedOptions.Add(path);
            var hashChanged = configuration.Hash != baseline.Hash;
            var recorded = !Encoding.UTF8.GetString(configuration.ToJson(forHash: false)).Equals(Encoding.UTF8.GetString(baseline.ToJson(forHash: false)), StringComparison.Ordinal);
            var excluded = Listed(NotPartOfTheResult, path);
            if (excluded && hashChanged)
            {
                problems.Add($"{path} is listed as not part of the result, but changes the hash");
            }
            else if (!excluded && !hashChanged)
            {
                problems.Add($"{path} does not change the configuration hash: hash it, or list it in NotPartOfTheResult with the reason");
            }
            if (!recorded && !Listed(NotRecorded, path))
            {
                problems.Add($"{path} is not recorded in run.json's configuration: record it, or list it in NotRecorded with the reason");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // The walk reached the options of every record, e.g. a scoring option, a reader limit and an execution setting.
        Assert.Contains("Scoring.MaskRate", checkedOptions);
        Assert.Contains("Reader.Limits.MaxDepth", checkedOptions);
        Assert.Contains("Execution.BatchTokens", checkedOptions);
    }

    [Fact]
    public void The_options_are_records_so_a_copy_with_one_change_keeps_every_other_option()
    {
        Assert.All(OptionRecords, type => Assert.NotNull(type.GetMethod("<Clone>$")));

        var options = new ScoringOptions { Seed = 3, Stopwords = ["x"] };
        var copy = options with { Stopwords = ["y"] };

        Assert.Equal(3, copy.Seed);
        Assert.True(copy.IsStopword("Y"));
        Assert.False(copy.IsStopword("x"));
        Assert.NotEqual(options.Hash, copy.Hash);
    }

    [Fact]
    public void Thresholds_stay_out_of_the_hash_while_the_flag_levels_of_the_spans_stay_in()
    {
        var baseline = PersistedFormatTests.Configuration();
        var otherPolicy = Copy(baseline, nameof(RunConfiguration.Policy), DecisionPolicy.Create([ScoreThreshold.Parse("contradiction_max>0.9")]));
        var otherFlag = Copy(baseline, nameof(RunConfiguration.Scoring), baseline.Scoring with { FillFlagBelow = -0.5 });

        Assert.Equal(baseline.Hash, ((RunConfiguration)otherPolicy).Hash);
        Assert.NotEqual(baseline.Hash, ((RunConfiguration)otherFlag).Hash);
    }

    private static bool Listed(Dictionary<string, string> list, string path) =>
        list.Keys.Any(listed => path == listed || path.StartsWith(listed + ".", StringComparison.Ordinal));

    /// <summary>
    /// For every settable option under <paramref name="value"/> (walking into <see cref="OptionRecords"/>), its path and
    /// the whole configuration with that option alone changed (<paramref name="rebuild"/> puts a changed value back into it).
    /// </summary>
    private static IEnumerable<(string Path, object Configuration)> Variants(object value, Type type, string prefix, Func<object, object> rebuild)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
        {
            var path = prefix + property.Name;
            var current = property.GetValue(value);
            if (OptionRecords.Contains(property.PropertyType))
            {
                var inner = Variants(current!, property.PropertyType, path + ".", changed => rebuild(Copy(value, property.Name, changed)));
                foreach (var variant in inner)
                {
                    yield return variant;
                }
                continue;
            }
            yield return (path, rebuild(Copy(value, property.Name, Changed(property.PropertyType, current, path))));
        }
    }

    private static object Copy(object value, string propertyName, object? newValue)
    {
        var copy = typeof(object).GetMethod("MemberwiseClone", BindingFlags.Instance | BindingFlags.NonPublic)!.Invoke(value, null)!;
        copy.GetType().GetProperty(propertyName)!.SetValue(copy, newValue);
        return copy;
    }

    /// <summary>Another value of an option's type; a type this does not know fails the test, naming the option to teach it.</summary>
    private static object? Changed(Type type, object? current, string path)
    {
        if (type.IsEnum)
        {
            var values = Enum.GetValues(type);
            return values.GetValue((Array.IndexOf(values, current) + 1) % values.Length);
        }
        return type switch
        {
            _ when type == typeof(int) => (int)current! + 1,
            _ when type == typeof(long) => (long)current! + 1,
            _ when type == typeof(long?) => current is null ? 5L : null,
            _ when type == typeof(double) => (double)current! + 0.125,
            _ when type == typeof(bool) => !(bool)current!,
            _ when type == typeof(string) => (string?)current + "-changed",
            _ when type == typeof(IReadOnlyList<string>) => (IReadOnlyList<string>)[.. (IReadOnlyList<string>)current!, "zz-changed"],
            _ when type == typeof(DecisionPolicy) => DecisionPolicy.Create([ScoreThreshold.Parse("contradiction_max>0.9")]),
            _ when type == typeof(IReadOnlyList<ModelRoleDigests>) => (IReadOnlyList<ModelRoleDigests>)
            [
                .. (IReadOnlyList<ModelRoleDigests>)current!,
                new ModelRoleDigests("nli", "/models/nli", [new ModelFileDigest("model.onnx", "/models/nli/model.onnx", 1, "4567")]),
            ],
            _ => throw new InvalidOperationException($"option {path} has a type ({type}) this test cannot change yet; teach Changed() about it"),
        };
    }
}
