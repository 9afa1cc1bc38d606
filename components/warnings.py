"""Warnings: settings that are valid but probably not what their author meant.

A component calls `warn(resource, message)` while it builds. The message goes through Pulumi's own
diagnostics (`pulumi.log.warn`), so a real `pulumi preview` shows it in the pull request, and `mlp plan`
collects it from the mock engine and prints it after the tree (and in the plan document's `warnings`).
"""

from __future__ import annotations

import pulumi


def warn(resource: str, message: str) -> None:
    """Report a warning about `resource` (its logical name); it never stops the plan."""
    # No `resource=` argument: that makes Pulumi log asynchronously once the URN resolves, and the offline
    # plan wants every warning by the time the program returns. The name is in the text instead.
    pulumi.log.warn(f"{resource}: {message}")
