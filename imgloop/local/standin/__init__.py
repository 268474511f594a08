"""A Bedrock stand-in at the botocore level: the service (InvokeModel, Converse), the judge and the
reviser it plays, the pictures it draws, and the answers it gives."""
