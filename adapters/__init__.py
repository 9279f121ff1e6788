"""The department systems over HTTP: signed calls through the province's data-sharing platform
(``contracts.platform``), one adapter per activity Protocol."""
