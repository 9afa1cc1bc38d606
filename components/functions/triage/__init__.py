"""The alert-triage function: deterministic incident context for a CloudWatch alarm, redacted, optionally
summarised by Amazon Bedrock through a guardrail, posted to the team's topic and a GitHub issue.

Runs in Lambda (`handler.lambda_handler`) and on a laptop (`mlp triage ENV ALARM_NAME`); boto3 only."""
