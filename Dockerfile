# One image for every service of 惠企通 (rasa, actions, gateway): the same venv `make` builds.
FROM python:3.10-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends make curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY huiqitong huiqitong
COPY knowledge knowledge
COPY actions actions
COPY gateway gateway
COPY bot bot
COPY bench bench
COPY nlu_data nlu_data
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir -e .
# The knowledge base and the model are built into the image; var/ and models/ are volumes at run time.
RUN .venv/bin/python -m knowledge build && .venv/bin/python -m bot.train
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1
EXPOSE 5005 5055 8000
CMD ["python", "-m", "gateway"]
