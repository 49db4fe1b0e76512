"""The med-spa HIPAA environment: a Pulumi program, its config model and its components."""
