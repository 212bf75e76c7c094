"""GET /healthz answers for the database and the workers."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accord.records.models import WorkerHeartbeat


def test_healthy_only_while_a_worker_reports(db: None) -> None:
    client = Client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["workers"] == "no worker has reported recently"
    assert response.json()["database"] == "ok"

    WorkerHeartbeat.objects.create(worker="w1", seen_at=timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"

    WorkerHeartbeat.objects.filter(worker="w1").update(seen_at=timezone.now() - timedelta(minutes=5))
    assert client.get("/healthz").status_code == 503
