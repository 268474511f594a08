"""Code shared by the Generate, Save, Validate and Revise functions."""
