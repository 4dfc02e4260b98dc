"""Source code with hard-coded credentials and connection strings: Python, JavaScript, Go, shell, Terraform,
Dockerfiles, Kubernetes manifests, SQL fixtures."""

from __future__ import annotations

from bench.heldout.template import Template, text

K = "code"

TEMPLATES: tuple[Template, ...] = (
    text(
        K,
        "python-requests",
        """import requests

API_KEY = "«api_key»"  # TODO move to settings
BASE = "https://api.«host»/v2"


def fetch_orders(since: int = «epoch»):
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Client": "reports/«version»"}
    return requests.get(f"{BASE}/orders", params={"since": since}, headers=headers, timeout=10).json()
""",
    ),
    text(
        K,
        "python-psycopg",
        """import psycopg2

conn = psycopg2.connect(
    host="«host»", dbname="«dbname»", user="«user»", password="«password»", port=5432
)
# fallback for the reporting replica
REPLICA_DSN = "postgresql://«user»:«url_password»@«host»:5432/«dbname»?sslmode=require"
""",
    ),
    text(
        K,
        "js-fetch",
        """const client = new Client({
  apiKey: process.env.API_KEY || "«vendor_value»",
  baseUrl: "https://api.«host»",
});

export async function notify(user) {
  // owner: «sender_email»
  return fetch(`${client.baseUrl}/notify`, {
    method: "POST",
    headers: { Authorization: "Bearer «jwt»" },
    body: JSON.stringify({ to: user.email, template: "welcome-«int»" }),
  });
}
""",
    ),
    text(
        K,
        "go-const",
        """package config

const (
	dbDSN      = "«user»:«url_password»@tcp(«host»:3306)/«dbname»?parseTime=true"
	schemaSHA  = "«digest»"
	apiToken   = "«vendor_value»"
	buildStamp = "«build»"
)

var AdminEmails = []string{"«email»", "«example_email»"}
""",
    ),
    text(
        K,
        "shell-curl",
        """#!/usr/bin/env bash
set -euo pipefail
# rotate nightly; ping «sender» if this breaks
curl -fsS -u «user»:«password» https://jenkins.«host»/job/nightly/build
curl -fsS -H "Authorization: token «vendor_value»" https://api.«host»/repos/acme/app/releases/«count»
curl -fsS -X POST -H "X-Api-Key: «api_key»" -d '{"ip":"«ip»"}' https://hooks.«host»/allowlist
""",
    ),
    text(
        K,
        "terraform-provider",
        """provider "aws" {
  region     = "us-east-1"
  access_key = "«aws_id»"
  secret_key = "«aws_secret»"
}

resource "aws_db_instance" "orders" {
  identifier = "orders-«env»"
  username   = "«user»"
  password   = "«password»"
  tags = { owner = "«email»", cost_center = "«order»" }
}
""",
    ),
    text(
        K,
        "dockerfile",
        """FROM python:3.12-slim
LABEL maintainer="«sender» <«sender_email»>"
ENV APP_VERSION=«version» \\
    «vendor_var»=«vendor_value» \\
    DB_PASSWORD=«password»
COPY . /app
RUN pip install --no-cache-dir -r /app/requirements.txt
CMD ["gunicorn", "app:create_app()"]
""",
    ),
    text(
        K,
        "k8s-deployment",
        """apiVersion: apps/v1
kind: Deployment
metadata:
  name: billing-worker
spec:
  template:
    spec:
      containers:
        - name: worker
          image: registry.internal/billing-worker@sha256:«digest»
          env:
            - name: DATABASE_URL
              value: "postgres://«user»:«url_password»@«host»:5432/«dbname»"
            - name: «vendor_var»
              value: "«vendor_value»"
            - name: POD_IP
              valueFrom: {fieldRef: {fieldPath: status.podIP}}
""",
    ),
    text(
        K,
        "sql-fixture",
        """-- fixtures for the support dashboard (copied from prod by «sender_given», «date»)
INSERT INTO customers (id, full_name, email, phone, ssn, created_at) VALUES
  ('«uuid»', '«person»', '«email»', '«phone»', '«ssn»', «epoch»),
  ('«uuid»', '«person»', '«email»', '«phone»', '«ssn»', «epoch»);
INSERT INTO payment_methods (customer_id, card_number, routing_number, account_number) VALUES
  ('«uuid»', '«card_bare»', '«aba»', '«bank»');
""",
    ),
    text(
        K,
        "java-jdbc",
        """public final class Db {
    private static final String URL = "jdbc:mysql://«host»:3306/«dbname»";
    private static final String USER = "«user»";
    private static final String PASSWORD = "«password»";
    private static final String RELEASE = "«version»";

    static Connection open() throws SQLException {
        return DriverManager.getConnection(URL, USER, PASSWORD);
    }
}
""",
    ),
    text(
        K,
        "python-settings",
        """# settings/«env».py
DEBUG = False
SECRET_KEY = "«api_key»"
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "«dbname»", "USER": "«user»",
                         "PASSWORD": "«password»", "HOST": "«ip»"}}
EMAIL_HOST_PASSWORD = "«placeholder»"
ADMINS = [("«person»", "«email»")]
«vendor_var» = "«vendor_value»"
""",
    ),
    text(
        K,
        "jupyter-cell",
        """In [12]: import openai, os
In [13]: os.environ["«vendor_var»"] = "«vendor_value»"
In [14]: df = pd.read_sql("select * from payments where created_at > «epoch_ms»", "mssql+pyodbc://«user»:«url_password»@«host»/«dbname»")
In [15]: df.head()
Out[15]:
   order_id         name             amount
0  «order»  «person»  «price»
""",
    ),
    text(
        K,
        "node-env-check",
        """// scripts/check-env.js (run by «sender_given»)
const required = ["DATABASE_URL", "JWT_SECRET"];
const defaults = {
  JWT_SECRET: "«api_key»",
  SESSION_COOKIE_NAME: "sid",
  ADMIN_PASSWORD: "«password»",
  UPLOAD_BUCKET_KEY: "«placeholder»",
};
console.log(`checked ${required.length} vars at «iso» on «ipv4»`);
""",
    ),
)
