"""The operator's command line and the code behind it (synth, check, preflight, drill)."""
