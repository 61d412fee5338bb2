using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring;

public sealed class FillCompareFormulaTests
{
    [Fact]
    public void The_published_fluffy_to_small_example_scores_0_9202()
    {
        Assert.Equal(0.9202, FillCompareFormula.ScoreFromPercentages(13.0892, 79.0414, 7.8693, 0.1456, 99.7456, 0.1087), 4);
        var probabilities = FillCompareFormula.Score(new NliProbabilities(0.130892f, 0.790414f, 0.078693f), new NliProbabilities(0.001456f, 0.997456f, 0.001087f));
        Assert.Equal(0.9202, probabilities, 4);
    }

    [Fact]
    public void The_published_llama_to_dog_example_scores_minus_0_9249()
    {
        Assert.Equal(-0.9249, FillCompareFormula.ScoreFromPercentages(1.8346, 3.7347, 94.4307, 0.111, 1.8248, 98.0642), 4);
        var probabilities = FillCompareFormula.Score(new NliProbabilities(0.018346f, 0.037347f, 0.944307f), new NliProbabilities(0.00111f, 0.018248f, 0.980642f));
        Assert.Equal(-0.9249, probabilities, 4);
    }
}
