FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml requirements.lock README.md ./
COPY service ./service
COPY migrations ./migrations
COPY alembic.ini ./
RUN pip install -c requirements.lock . && useradd --create-home --uid 10001 enroll

USER enroll
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["python", "-m", "service", "serve", "--host", "0.0.0.0", "--port", "8000"]
