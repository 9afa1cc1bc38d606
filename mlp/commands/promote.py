"""`mlp promote MODEL --to ENV [--version N]`: promote a model version by pull request."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.errors import InputError, Problem
from components.loader import load_environment, repo_root
from mlp.aws_access import aws_access
from mlp.commands import add_root_option
from mlp.github import GitHub, GitHubError
from mlp.promote import PromotionRefusedError, commit_promotion, gh_command, git, next_environments, plan_promotion

EXIT_REFUSED = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "promote",
        help="promote a model version to the next environment, as a pull request",
        description=(
            "Check the promotion gates (version Approved in the registry; the environment below already serves "
            "it; optionally its rollback alarms are OK), set the version in environments/<env>.yaml, commit on "
            "promote/<model>-<env>-v<N> and open the pull request (GitHub API when GITHUB_TOKEN is set, else "
            "print the gh command). Exit 1 when a gate refuses."
        ),
    )
    parser.add_argument("model", help="model name in the environment file (or its registry group)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", dest="target", help="environment to promote to")
    where.add_argument(
        "--after",
        metavar="ENV",
        help="promote to the environment(s) promoted from ENV (used by the registry-approval dispatch)",
    )
    parser.add_argument(
        "--version",
        type=int,
        default=None,
        help="model package version (default: what the "
        "environment below serves; in the first stage, the newest Approved version)",
    )
    parser.add_argument(
        "--alarm-prefix",
        default=None,
        help="refuse while an alarm of the environment below "
        "whose name starts with this prefix is in ALARM (uses the current AWS credentials)",
    )
    parser.add_argument("--base", default="main", help="branch the pull request targets (default: main)")
    parser.add_argument("--push", action="store_true", help="push the branch to origin before opening the PR")
    add_root_option(parser, holds="the git repository with environments/")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import boto3

    root: Path = args.root or repo_root()
    targets = [args.target] if args.target else next_environments(root, args.after)
    if not targets:
        print(f"refused: no environment is promoted from {args.after!r}", file=sys.stderr)
        return EXIT_REFUSED
    status = 0
    try:
        start = git(root, "rev-parse", "HEAD").strip()
    except PromotionRefusedError as exc:  # not a git work tree (or no commit yet): nothing to branch from
        raise InputError(
            [Problem(str(root), "", f"mlp promote commits on a branch and needs a git work tree: {exc}")]
        ) from None
    for i, target in enumerate(targets):
        env = load_environment(target, root)
        registry_region = env.registry.region
        source = env.promoted_from
        source_region = load_environment(source, root).region if source else registry_region
        try:
            with aws_access(
                "mlp promote",
                "sagemaker:ListModelPackages/DescribeModelPackage, s3:GetObject, cloudwatch:DescribeAlarms",
            ):
                promotion = plan_promotion(
                    root,
                    args.model,
                    target,
                    version=args.version,
                    sagemaker=boto3.client("sagemaker", region_name=registry_region),
                    s3=boto3.client("s3", region_name=registry_region),
                    cloudwatch=boto3.client("cloudwatch", region_name=source_region),
                    alarm_prefix=args.alarm_prefix,
                )
            if i:  # each promotion branch starts from where the command started
                git(root, "switch", "--quiet", "--detach", start)
            commit_promotion(root, promotion)
        except PromotionRefusedError as exc:
            print(f"refused: {exc}", file=sys.stderr)
            status = EXIT_REFUSED
            continue
        print(f"committed on {promotion.branch}:\n{promotion.commit_message()}")
        if args.push:
            git(root, "push", "--quiet", "-u", "origin", promotion.branch)
        client = GitHub.from_environment()
        if client is None:
            body_file = Path(git(root, "rev-parse", "--absolute-git-dir").strip()) / f"mlp-pr-{target}.md"
            body_file.write_text(promotion.pr_body(), encoding="utf-8")
            print("GITHUB_TOKEN is not set; open the pull request with:")
            print(gh_command(promotion, args.base, body_file))
        else:
            try:
                url = client.create_pull_request(
                    env.repository, promotion.branch, args.base, promotion.title, promotion.pr_body()
                )
            except GitHubError as exc:
                print(f"error: the branch is committed but the pull request was not opened: {exc}", file=sys.stderr)
                return 3
            print(f"opened {url}")
    return status
