"""Every wrong input is caught where it is written: one line per problem with file and line, exit 2, nothing
planned, no traceback. Each test breaks one small fixture environment in one way and asserts the message."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config.expressions import cron_problem, rate_problem
from mlp.cli import EXIT_INPUT, main
from tests.mlp.fixture_environments import ENVIRONMENT, SECOND_MODEL, line_of, write_environment

TRAINING = "    training:\n      metric: {name: auc, minimum: 0.8}\n"


def errors(root: Path, capsys: pytest.CaptureFixture[str], *command: str) -> list[str]:
    """The error lines of `mlp plan dev` (or `command`) on root, which must refuse with exit 2 planning nothing."""
    code = main([*(command or ("plan", "dev")), "--root", str(root)])
    captured = capsys.readouterr()
    assert code == EXIT_INPUT, captured.err
    assert "Traceback" not in captured.err and "internal error" not in captured.err
    assert captured.out == "", "nothing is planned when the input is bad"
    return captured.err.strip().splitlines()


def with_model_lines(lines: str) -> str:
    """The fixture environment with `lines` added to its model, after `serving:`'s rollout."""
    return ENVIRONMENT + lines


def test_cron_hour_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path, text=with_model_lines(TRAINING + "      schedule: cron(0 25 ? * SUN *)\n"))
    [error] = errors(root, capsys)
    assert error.startswith(f"error: environments/dev.yaml:{line_of(root, 'schedule:')}: models[0].training.schedule: ")
    assert "hours '25': '25' is outside 0-23" in error
    assert "eb-cron-expressions.html" in error


def test_cron_needs_a_question_mark_in_one_day_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path, text=with_model_lines(TRAINING + "      schedule: cron(0 3 * * * *)\n"))
    [error] = errors(root, capsys)
    assert f"dev.yaml:{line_of(root, 'schedule:')}: models[0].training.schedule:" in error
    assert "exactly one of day-of-month (*) and day-of-week (*) must be '?'" in error


def test_rate_unit_must_agree_with_its_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path, text=with_model_lines(TRAINING + "      schedule: rate(1 days)\n"))
    [error] = errors(root, capsys)
    assert f"dev.yaml:{line_of(root, 'schedule:')}: models[0].training.schedule: rate(1 days): " in error
    assert "write rate(1 day)" in error


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("cron(0 20 ? * MON-FRI *)", None),
        ("cron(0/15 8-18 ? * 2#1 2026)", None),
        ("cron(0 0 L * ? *)", None),
        ("cron(0 0 15W * ? *)", None),
        ("cron(61 0 ? * * *)", "minutes '61'"),
        ("cron(0 0 32 * ? *)", "day-of-month '32'"),
        ("cron(0 0 ? JAM * *)", "'JAM' is not a month value"),
        ("cron(0 0 ? * MON/2 *)", "'/' is not allowed in day-of-week"),
        ("cron(0 0 ? * * 2300)", "outside 1970-2199"),
        ("cron(0 0 ? *)", "has 4 fields"),
        ("cron(0 0 ? ? ? *)", "'?' is not allowed in month"),
    ],
)
def test_cron_grammar(expression: str, problem: str | None) -> None:
    found = cron_problem(expression)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_rate_grammar() -> None:
    assert rate_problem("rate(12 hours)") is None
    assert rate_problem("rate(1 minute)") is None
    assert "unit 'weeks'" in str(rate_problem("rate(2 weeks)"))
    assert "positive whole VALUE" in str(rate_problem("rate(0 days)"))


def test_misspelt_time_zone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = with_model_lines(TRAINING + "      schedule: rate(1 day)\n      schedule_timezone: Europe/Dubln\n")
    root = write_environment(tmp_path, text=text)
    [error] = errors(root, capsys)
    assert error == (
        f"error: environments/dev.yaml:{line_of(root, 'schedule_timezone')}: models[0].training.schedule_timezone: "
        "'Europe/Dubln' is not an IANA time zone; did you mean Europe/Dublin, Europe/Ljubljana, Europe/Lisbon?"
    )


def test_scale_down_window_cron_and_time_zone_are_both_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    window = (
        "      autoscaling:\n        min_capacity: 1\n        max_capacity: 2\n        invocations_per_instance: 100\n"
        "        scale_down_windows:\n"
        "          - name: nights\n            start: cron(0 19 * * MON-FRI *)\n"
        "            end: cron(0 7 ? * MON-FRI *)\n"
        "            timezone: Mars/Base\n"
    )
    root = write_environment(tmp_path, text=ENVIRONMENT + window)
    start, zone = errors(root, capsys)
    where = "models[0].serving.autoscaling.scale_down_windows[0]"
    assert start.startswith(f"error: environments/dev.yaml:{line_of(root, 'start:')}: {where}.start: ")
    assert "must be '?'" in start
    assert zone.startswith(f"error: environments/dev.yaml:{line_of(root, 'timezone:')}: {where}.timezone: ")
    assert "'Mars/Base' is not an IANA time zone" in zone


def test_unknown_region_blames_region(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path, text=with_model_lines(TRAINING).replace("eu-west-1", "eu-west-9"))
    [error] = errors(root, capsys)
    assert error == (
        "error: environments/dev.yaml:2: region: 'eu-west-9' is not an AWS region (botocore's endpoint data knows "
        "none of that name); did you mean eu-west-3, eu-west-2, eu-west-1?"
    )


def test_region_of_another_partition(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path, text=ENVIRONMENT.replace("eu-west-1", "cn-north-1"))
    [error] = errors(root, capsys)
    assert error.startswith("error: environments/dev.yaml:2: region: 'cn-north-1' is in the aws-cn partition;")


def test_region_without_the_monitor_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = "      data_capture: {sampling_percent: 10}\n"
    root = write_environment(tmp_path, text=ENVIRONMENT.replace("eu-west-1", "mx-central-1") + capture)
    [error] = errors(root, capsys)
    assert error.startswith(
        "error: environments/dev.yaml:2: region: Model Monitor publishes no analyzer image in mx-central-1"
    )
    assert ": scoring;" in error


@pytest.mark.parametrize("value", [".inf", ".nan", "-.inf"])
def test_budgets_must_be_finite(value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(
        tmp_path, text=ENVIRONMENT.replace("monthly_budget_usd: 1000", f"monthly_budget_usd: {value}")
    )
    [error] = errors(root, capsys)
    assert error.startswith("error: environments/dev.yaml:6: finops.monthly_budget_usd: must be a finite number")


def test_two_models_sharing_a_registry_group(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(
        tmp_path, text=ENVIRONMENT + SECOND_MODEL.replace("registry_group: limits", "registry_group: scoring")
    )
    [error] = errors(root, capsys)
    line = [
        i + 1 for i, t in enumerate((root / "environments/dev.yaml").read_text().splitlines()) if "registry_group" in t
    ][1]
    assert error.startswith(
        f"error: environments/dev.yaml:{line}: models[1].registry_group: registry group 'scoring' is already "
        "model 'scoring''s"
    )


def test_promoted_from_a_missing_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(
        tmp_path, text=ENVIRONMENT.replace("protect_stateful", "promoted_from: qa\nprotect_stateful")
    )
    [error] = errors(root, capsys)
    assert error == (
        f"error: environments/dev.yaml:{line_of(root, 'promoted_from')}: promoted_from: environment 'qa' does not "
        "exist; known environments: dev"
    )


def test_promotion_loop_is_refused_like_mlp_affected_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, source in (("dev", "prod"), ("prod", "dev")):
        write_environment(
            tmp_path, name, ENVIRONMENT.replace("protect_stateful", f"promoted_from: {source}\nprotect_stateful")
        )
    planned = errors(tmp_path, capsys)
    affected = errors(tmp_path, capsys, "affected", "environments/dev.yaml")
    assert planned == affected
    assert planned[0] == (
        "error: environments/dev.yaml:4: promoted_from: promotion order loops (dev -> prod): one environment must "
        "be the first stage, with no promoted_from"
    )


def test_slug_rule_in_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path, text=ENVIRONMENT.replace("- name: scoring", "- name: Scoring_Model"))
    [error] = errors(root, capsys)
    assert error == (
        f"error: environments/dev.yaml:{line_of(root, 'Scoring_Model')}: models[0].name: 'Scoring_Model' does not "
        "fit: use lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, at most "
        "40 characters (the name becomes part of AWS resource names, tags and Kubernetes labels)"
    )


def test_unquoted_account_id_gets_the_hint_to_quote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path, text=ENVIRONMENT.replace('"111111111111"', "011111111111"))
    [error] = errors(root, capsys)
    assert error == (
        "error: environments/dev.yaml:1: account_id: YAML read 011111111111 as a number (11111111111), and a text "
        'value is expected here: quote it, "011111111111", so leading zeros and trailing digits are kept'
    )


def test_unquoted_kubernetes_version_gets_the_hint_to_quote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cluster = (
        "kubernetes:\n  cluster_name: ml\n  version: 1.30\n"
        "  oidc_issuer: oidc.eks.eu-west-1.amazonaws.com/id/5E1D7C9A3B2F4E6D8C0A1B3C5D7E9F01\n"
    )
    root = write_environment(tmp_path, text=ENVIRONMENT.replace("finops:", cluster + "finops:"))
    [error] = errors(root, capsys)
    assert error.startswith(f"error: environments/dev.yaml:{line_of(root, 'version: 1.30')}: kubernetes.version: ")
    assert "YAML read 1.30 as a number (1.3)" in error and 'quote it, "1.30"' in error


def test_a_section_given_a_string_says_it_must_be_a_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path, text=ENVIRONMENT + "      slos: fast\n")
    [error] = errors(root, capsys)
    assert error == (
        f"error: environments/dev.yaml:{line_of(root, 'slos:')}: models[0].serving.slos: must be a mapping (key: value "
        "lines indented below it) with the keys evaluation_minutes, extra_alarms, max_5xx_errors_per_minute, "
        "p99_latency_ms; got 'fast'"
    )


def test_canary_over_half_cites_the_aws_rule_and_names_only_written_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rollout = "rollout: {strategy: canary, percent: 80, bake_minutes: 5}"
    text = ENVIRONMENT.replace("rollout: {strategy: all-at-once}", rollout)
    text += "      slos: {p99_latency_ms: 100, max_5xx_errors_per_minute: 1}\n"
    root = write_environment(tmp_path, text=text)
    [error] = errors(root, capsys)
    assert error.startswith(
        f"error: environments/dev.yaml:{line_of(root, 'rollout:')}: models[0].serving.rollout.percent: "
    )
    assert "rollout.canary" not in error
    assert "API_TrafficRoutingConfig.html" in error and "(got 80)" in error


def test_all_problems_of_a_file_in_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ENVIRONMENT.replace("eu-west-1", "eu-west-9").replace("monthly_budget_usd: 1000", "monthly_budget_usd: .inf")
    root = write_environment(tmp_path, text=text.replace("- name: scoring", "- name: Scoring"))
    found = errors(root, capsys)
    assert [e.split(": ")[2] for e in found] == ["region", "finops.monthly_budget_usd", "models[0].name"]


def test_file_that_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path)
    latin1 = ENVIRONMENT.replace("fraud@example.com", "fr\xe4ud@example.com")
    (root / "environments" / "dev.yaml").write_bytes(latin1.encode("latin-1"))
    [error] = errors(root, capsys)
    line, offset = line_of(root, "owners", text=latin1), latin1.index("\xe4")
    assert error == (
        f"error: environments/dev.yaml:{line}: the file is not UTF-8 text (byte 0xe4 at offset {offset}); save it "
        "as UTF-8 (YAML files are UTF-8)"
    )


def test_misspelt_policy_rule_is_refused_before_any_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path, text=ENVIRONMENT + "policies:\n  rules:\n    training-in-vcp: disabled\n")
    [error] = errors(root, capsys)
    assert error.startswith(
        f"error: environments/dev.yaml:{line_of(root, 'training-in-vcp')}: policies.rules.training-in-vcp: unknown "
        "rule 'training-in-vcp'; did you mean 'training-in-vpc'?"
    )


def test_stack_config_naming_a_missing_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path)
    (root / "stacks").mkdir()
    (root / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n  environment: qa\n")
    [error] = errors(root, capsys)
    assert error == (
        "error: stacks/Pulumi.dev.yaml:3: config.environment: names environment 'qa', but there is no "
        "environments/qa.yaml; known environments: dev"
    )


def test_stack_config_with_a_yaml_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path)
    (root / "stacks").mkdir()
    (root / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  aws:region: [eu-west-1\n  other: 1\n")
    [error] = errors(root, capsys)
    assert error == "error: stacks/Pulumi.dev.yaml:3: YAML syntax error: expected ',' or ']', but got ':'"


def test_promote_outside_a_git_work_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path)
    [error] = errors(root, capsys, "promote", "scoring", "--to", "dev")
    assert error.startswith(f"error: {root}: mlp promote commits on a branch and needs a git work tree: ")


def test_rules_between_entries_are_reported_beside_field_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    second = SECOND_MODEL.replace("team: fraud", "team: payments").replace(
        "limits\n    version", "scoring\n    version"
    )
    root = write_environment(tmp_path, text=ENVIRONMENT.replace("eu-west-1", "eu-west-9") + second)
    found = errors(root, capsys)
    assert [e.split(": ")[2] for e in found] == ["region", "models[1].registry_group", "models[1].team"]
    assert "registry group 'scoring' is already model 'scoring''s" in found[1]
    assert found[2].endswith("team 'payments' does not exist; teams here: fraud")


def test_types_and_bounds_in_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        ENVIRONMENT.replace("version: 3", "version: latest")
        .replace("owners: [fraud@example.com]", "owners: []")
        .replace("protect_stateful_resources: false", "protect_stateful_resources: maybe")
    )
    root = write_environment(tmp_path, text=text)
    assert errors(root, capsys) == [
        "error: environments/dev.yaml:4: protect_stateful_resources: must be true or false (got 'maybe')",
        f"error: environments/dev.yaml:{line_of(root, 'owners')}: teams[0].owners: needs at least 1 entry",
        f"error: environments/dev.yaml:{line_of(root, 'latest')}: models[0].version: must be a whole number, e.g. 3 "
        "(got 'latest')",
    ]


def test_stack_config_that_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_environment(tmp_path)
    (root / "stacks").mkdir()
    (root / "stacks" / "Pulumi.dev.yaml").write_bytes("config:\n  ml-platform:owner: J\xfcrgen\n".encode("latin-1"))
    [error] = errors(root, capsys)
    assert error.startswith("error: stacks/Pulumi.dev.yaml:2: the file is not UTF-8 text (byte 0xfc at offset 30)")
