"""Code that runs in AWS (Lambda handlers), packaged from this repository by the components that deploy it.
Pure Python with boto3 only: nothing here may import pulumi or the rest of the repository."""
