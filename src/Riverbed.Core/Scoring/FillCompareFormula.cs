namespace Riverbed.Scoring;

/// <summary>NLI class probabilities for one premise → hypothesis direction, each in [0, 1].</summary>
public readonly record struct NliProbabilities(float Entailment, float Neutral, float Contradiction)
{
    /// <summary>How far the hypothesis is compatible with the premise: entailment plus neutral minus contradiction, in [-1, 1].</summary>
    public double Compatibility => (double)Entailment + Neutral - Contradiction;
}

/// <summary>
/// The fill-and-compare score of one masked position whose fill differed from the original word:
/// <c>score = ((e + n − c)/2 + (e′ + n′ − c′)/2) / 100</c> with e, n, c in percent for original → replaced and
/// e′, n′, c′ for replaced → original. With probabilities in [0, 1] that is the mean of the two compatibilities.
/// A match (the model filled the original word back) scores 1.
/// </summary>
public static class FillCompareFormula
{
    public const double MatchScore = 1.0;

    public static double Score(NliProbabilities originalToReplaced, NliProbabilities replacedToOriginal) =>
        (originalToReplaced.Compatibility + replacedToOriginal.Compatibility) / 2.0;

    /// <summary>The formula as published, with e, n, c given in percent.</summary>
    public static double ScoreFromPercentages(double e, double n, double c, double ePrime, double nPrime, double cPrime) =>
        ((e + n - c) / 2.0 + (ePrime + nPrime - cPrime) / 2.0) / 100.0;
}
