"""Runtime plumbing shared by the worker, the API and the CLI: settings, the Temporal client,
starting a case, logging. Nothing here is imported by workflow code."""
