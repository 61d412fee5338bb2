using Riverbed.Inference.ModelFolders;

namespace Riverbed.Core.Tests.Inference;

public sealed class ModelRolesTests
{
    [Fact]
    public void The_role_table_has_one_contract_per_role_in_enum_order()
    {
        var roles = Enum.GetValues<ModelRole>();

        Assert.Equal(roles, ModelRoles.Table.Select(c => c.Role));
        Assert.All(roles, r => Assert.Same(ModelRoles.Table[(int)r], r.Contract()));
        Assert.Equal(ModelRoles.Table.Count, ModelRoles.Names.Distinct().Count());
    }

    [Theory]
    [InlineData("mlm", ModelRole.MaskedLm)]
    [InlineData(" NLI ", ModelRole.Nli)]
    [InlineData("rtd", ModelRole.ReplacedTokenDetection)]
    [InlineData("ner", ModelRole.TokenClassification)]
    public void A_role_is_found_by_its_short_name_in_any_case(string name, ModelRole expected)
    {
        Assert.True(ModelRoles.TryParse(name, out var role));
        Assert.Equal(expected, role);
        Assert.Equal(name.Trim().ToLowerInvariant(), role.Name());
    }

    [Theory]
    [InlineData("RobertaForMaskedLM", null, ModelRole.MaskedLm)]
    [InlineData("DebertaV2ForSequenceClassification", "deberta-v2", ModelRole.Nli)]
    [InlineData("ElectraForPreTraining", "electra", ModelRole.ReplacedTokenDetection)]
    [InlineData("SomethingForPreTraining", "electra", ModelRole.ReplacedTokenDetection)]
    [InlineData("BertForTokenClassification", "bert", ModelRole.TokenClassification)]
    public void An_architecture_implies_the_role_of_its_head(string architecture, string? modelType, ModelRole expected) =>
        Assert.Equal(expected, ModelRoles.FromArchitecture(architecture, modelType));

    [Theory]
    [InlineData("BertForPreTraining", "bert")]
    [InlineData("BertModel", "bert")]
    [InlineData("", null)]
    public void An_architecture_without_a_known_head_implies_no_role(string architecture, string? modelType) =>
        Assert.Null(ModelRoles.FromArchitecture(architecture, modelType));

    [Fact]
    public void Unknown_role_names_are_refused()
    {
        Assert.False(ModelRoles.TryParse("classifier", out _));
        Assert.False(ModelRoles.TryParse(null, out _));
    }
}
