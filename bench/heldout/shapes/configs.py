"""Configuration files with credentials: .env files, YAML, TOML, INI, Java properties, JSON settings,
Kubernetes secrets, docker-compose files, CI workflows. Placeholders and references sit beside real values."""

from __future__ import annotations

from bench.heldout.doc import DocBuilder, fill
from bench.heldout.slots import SLOTS, Ctx
from bench.heldout.template import Template, choice, text

F = "config"


def inventory(name: str, head: str, line: str, key_line: str) -> Template:
    """A dump of several vendors' credentials (a secrets manager export, a shared .env), sometimes with a key."""

    def write(ctx: Ctx, d: DocBuilder) -> None:
        fill(d, SLOTS, ctx, head)
        for _ in range(ctx.rng.randint(3, 7)):
            fill(d, SLOTS, ctx, line)
        if ctx.rng.random() < 0.35:
            fill(d, SLOTS, ctx, key_line)

    return Template(F, name, write)


TEMPLATES: tuple[Template, ...] = (
    text(
        F,
        "dotenv-service",
        """# «env» settings for the billing service (do not commit)
APP_ENV=«env»
PORT=8080
DATABASE_URL=postgres://«user»:«url_password»@«host»:5432/«dbname»
«vendor_var»=«vendor_value»
SECRET_KEY_BASE=«api_key»
SMTP_USER=«role_email»
SMTP_PASSWORD=«password»
SENTRY_RELEASE=«version»
GIT_COMMIT=«sha»
STRIPE_WEBHOOK_SECRET=«placeholder»
""",
    ),
    choice(
        F,
        "dotenv-export",
        """export AWS_ACCESS_KEY_ID=«aws_id»
export AWS_SECRET_ACCESS_KEY=«aws_secret»
export AWS_DEFAULT_REGION=eu-west-1
export «vendor_var»="«vendor_value»"
export BUILD_ID=«build»
""",
        """# ~/.aws-prod (sourced by deploy.sh)
export AWS_ACCESS_KEY_ID="«aws_id»"
export AWS_SECRET_ACCESS_KEY="«aws_secret»"
export DEPLOY_TOKEN="«api_key»"
export ALERT_EMAIL=«example_email»
""",
    ),
    text(
        F,
        "yaml-app",
        """server:
  port: 8443
  request_id_header: X-Request-Id
database:
  host: «host»
  port: 5432
  name: «dbname»
  username: «user»
  password: "«password»"
cache:
  url: redis://:«url_password»@cache01:6379/0
integrations:
  «vendor_key»: "«vendor_value»"
  webhook_signing_secret: "«api_key»"
  fallback_token: "«placeholder»"
owner: «sender_email»
""",
    ),
    text(
        F,
        "toml-service",
        """[service]
name = "ledger-sync"
version = "«version»"

[database]
url = "mysql://«user»:«url_password»@«host»:3306/«dbname»"
pool_size = 10

[auth]
jwt_secret = "«api_key»"
admin_password = "«password»"

[[notifiers]]
kind = "email"
to = "«role_email»"
""",
    ),
    text(
        F,
        "ini-legacy",
        """; legacy settings, migrated «date»
[smtp]
host = smtp.«host»
user = «role_email»
pass = «password»

[payments]
merchant_id = «order»
api_secret = «api_key»

[contact]
owner = «sender»
phone = «phone»
""",
    ),
    text(
        F,
        "java-properties",
        """spring.datasource.url=jdbc:postgresql://«host»:5432/«dbname»
spring.datasource.username=«user»
spring.datasource.password=«password»
spring.mail.username=«role_email»
spring.mail.password=«password»
app.«vendor_key».token=«vendor_value»
app.build.number=«build»
management.info.git.commit=«sha»
""",
    ),
    text(
        F,
        "appsettings-json",
        """{
  "Logging": { "LogLevel": { "Default": "Information" } },
  "ConnectionStrings": {
    "Default": "Server=«host»;Database=«dbname»;User Id=«user»;Password=«password»;TrustServerCertificate=True"
  },
  "Payments": { "ApiKey": "«api_key»", "MerchantRef": "«order»" },
  "Support": { "Email": "«role_email»", "Phone": "«phone_us»" },
  "InstanceId": "«uuid»"
}
""",
    ),
    text(
        F,
        "k8s-secret",
        """apiVersion: v1
kind: Secret
metadata:
  name: orders-api
  namespace: «env»
  annotations:
    checksum/config: «digest»
type: Opaque
stringData:
  DB_PASSWORD: "«password»"
  «vendor_var»: "«vendor_value»"
  JWT_SIGNING_KEY: "«api_key»"
""",
    ),
    text(
        F,
        "docker-compose",
        """services:
  db:
    image: postgres:16
    environment:
      - POSTGRES_USER=«user»
      - POSTGRES_PASSWORD=«password»
  api:
    image: registry.internal/orders-api:«version»
    environment:
      DATABASE_URL: "postgresql://«user»:«url_password»@db:5432/«dbname»"
      «vendor_var»: "«vendor_value»"
      ADMIN_CONTACT: «example_email»
""",
    ),
    text(
        F,
        "github-workflow",
        """name: deploy
on: [push]
jobs:
  deploy:
    runs-on: ubuntu-latest
    env:
      REGISTRY_TOKEN: «placeholder»
      SLACK_WEBHOOK: ${{ secrets.SLACK_WEBHOOK }}
      «vendor_var»: «vendor_value»
    steps:
      - uses: actions/checkout@«sha»
      - run: ./deploy.sh --build «build»
""",
    ),
    text(
        F,
        "ssh-key-file",
        """# deploy key for «host» (rotated «date»)
«private_key»
""",
    ),
    text(
        F,
        "sample-env",
        """# Copy to .env and fill in. Ask «sender» (#platform) for the real values.
OPENAI_API_KEY=«placeholder»
DATABASE_PASSWORD=«placeholder»
SUPPORT_INBOX=«example_email»
# this one is shared across environments:
«vendor_var»=«vendor_value»
REQUEST_TIMEOUT_MS=«ms»
""",
    ),
    text(
        F,
        "netrc",
        """machine api.«host»
  login «user»
  password «password»
machine git.«host»
  login «sender_email»
  password «url_password»
""",
    ),
    text(
        F,
        "helm-values",
        """replicaCount: 3
image:
  tag: "«version»"
postgresql:
  auth:
    username: «user»
    password: "«password»"
    existingSecret: ""
env:
  - name: «vendor_var»
    value: "«vendor_value»"
  - name: SESSION_SECRET
    value: «placeholder»
podAnnotations:
  build: "«build»"
""",
    ),
    inventory(
        "secrets-dump-env",
        "# exported from the vault by «sender» on «date»\n",
        "«catalogue_var»=«vendor_value»\n",
        'DEPLOY_KEY="«private_key»"\n',
    ),
    inventory(
        "secrets-dump-yaml",
        "# sops-decrypted «iso»\nsecrets:\n",
        "  «catalogue_var»: «vendor_value»\n",
        "  tls_key: |\n«private_key»\n",
    ),
)
