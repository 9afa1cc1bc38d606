"""Scripts the platform's SageMaker processing jobs run (uploaded to the artifact bucket by their component).

They run in AWS's scikit-learn processing image with python3 and boto3, so they import nothing else from
this repository and no package beyond the standard library and boto3.
"""
