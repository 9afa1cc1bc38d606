"""`mlp plan ENV`: what the environment would deploy, without the Pulumi CLI, credentials or network."""

from __future__ import annotations

import argparse
import sys

from components.data_root import repo_root
from components.errors import InputError, Problem
from components.loader import load_environment
from components.rendered_pipelines import outdated, rendered_dir
from mlp.commands import add_root_option
from mlp.plan import build_plan, plan_json, render_tree
from mlp.plan_diff import changes_json, diff_plans, render_markdown, summary_line
from mlp.policy import check_plan, mandatory, render_violations
from mlp.revisions import plan_at_revision


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="plan an environment offline under Pulumi's mock runtime",
        description=(
            "Plan an environment offline: run stacks/ under Pulumi's mock runtime and show what it would deploy."
        ),
    )
    parser.add_argument("env", help="environment name: environments/<env>.yaml")
    parser.add_argument("--json", action="store_true", help="print the plan document (see README) instead of the tree")
    parser.add_argument(
        "--against",
        metavar="GIT_REF",
        help="compare with the plan of GIT_REF (e.g. origin/main): created, updated in place, replaced, deleted",
    )
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="with --against: print only the changes as a pull-request comment section (markdown)",
    )
    add_root_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.markdown and not args.against:
        raise InputError([Problem("command line", "--markdown", "--markdown needs --against GIT_REF")])
    plan = build_plan(args.env, args.root)
    changes = None
    if args.against:
        changes = diff_plans(plan_at_revision(args.root or repo_root(), args.against, args.env), plan)
    if args.markdown and changes is not None:
        sys.stdout.write(render_markdown(args.env, args.against, changes))
    elif args.json:
        document = {**plan, "changes": changes_json(args.against, changes)} if changes is not None else plan
        sys.stdout.write(plan_json(document))
    else:
        sys.stdout.write(render_tree(plan, changes))
        if changes is not None:
            sys.stdout.write("\n" + summary_line(args.against, changes) + "\n")
    for warning in plan.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    root = args.root or repo_root()
    for path in outdated(rendered_dir(root, args.env)):
        print(
            f"note: {path.relative_to(root)} is missing or out of date, so this plan built the pipeline's "
            f"definition with the sagemaker SDK (slow); `uv run mlp pipelines {args.env}` writes it",
            file=sys.stderr,
        )
    # The policy pack's rules, offline; with --json the report goes to stderr so stdout stays the document.
    violations = check_plan(plan, load_environment(args.env, args.root), args.root)
    (sys.stderr if args.json or args.markdown else sys.stdout).write("\n" + render_violations(violations))
    return 1 if mandatory(violations) else 0
