"""The non-isolated steps of the evidently engine's monitoring pipeline (components/evidently_monitoring.py),
two Lambda functions around the network-isolated drift job:

- `select_window.lambda_handler` lists the capture objects of the run's window and writes them as
  ProcessingInput manifests (S3DataType ManifestFile), with the version's reference data;
- `publish_run.lambda_handler` reads the job's metrics.json and publishes the CloudWatch metrics, then points
  latest.json at the run, then logs the run to MLflow (`mlflow_run`: the REST API signed with SigV4).

boto3 and botocore (the Lambda runtime's) and the metrics contract (components/jobs/metrics_contract.py, which
imports nothing) are all they import: the component packages these modules with that one file.
"""
