"""imgloop: run, inspect and test the image loop; the workflow itself lives in infra/, lambdas/ and statemachine/."""
