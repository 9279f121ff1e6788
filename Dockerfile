# The service's image: the API, the worker and the one-shot migration all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY policies policies
COPY contracts contracts
COPY activities activities
COPY adapters adapters
COPY workflows workflows
COPY db db
COPY service service
COPY api api
COPY web web
COPY notifications notifications
COPY cli cli
COPY worker.py ./
# Bytecode for the service's own modules. The worker's workflow sandbox imports the workflow's
# modules afresh for every case it starts or reloads into its cache; without .pyc files (and
# PYTHONDONTWRITEBYTECODE keeps Python from writing them) each of those compiles workflows/*.py
# from source again (docs/performance.md).
RUN python -m compileall -q domain policies contracts activities adapters workflows db service api web \
    notifications cli \
    worker.py
RUN pip install --no-cache-dir . && useradd --system --uid 10001 retirement
USER retirement

# The department simulator (simulator/) is not in the image: production reaches the departments'
# own systems (DEPARTMENTS_URL, PLATFORM_APP_ID, PLATFORM_SECRET_FILE).
# The API by default; the worker and the migration override the command (docker-compose.yml).
EXPOSE 8000 9464
CMD ["uvicorn", "web.app:app", "--host", "0.0.0.0", "--port", "8000", "--no-access-log"]
