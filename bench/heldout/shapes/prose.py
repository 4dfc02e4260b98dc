"""Prose: credentials introduced by words rather than assignments (English, German, French, Spanish,
Portuguese), personal data in sentences, names in running text, and prompts pasted into an assistant."""

from __future__ import annotations

from bench.heldout.template import Template, choice, text

P = "prose"

TEMPLATES: tuple[Template, ...] = (
    choice(
        P,
        "key-for-env",
        "here is the key for «env»: «vendor_value»\nit expires on «date», ping «person» if it stops working.\n",
        "Here's the «env» key «vendor_value» — please don't share it outside the team.\n",
        "The key for «env» is «api_key» (rotated «weekday»). Build «build» already uses it.\n",
    ),
    choice(
        P,
        "my-password",
        "my password is «password» and it still says invalid credentials on «weekday».\n",
        "I changed my password to «password» yesterday but the app on version «version» still asks for the old one.\n",
        "Can you summarise this? «person» told me the shared password is «password», and the admin "
        "console is at «ip».\n",
    ),
    choice(
        P,
        "token-colon",
        "token: «vendor_value»\nscope: read-only, created «iso»\n",
        "Use this token «vendor_value» for the «vendor_name» integration until «date».\n",
        "new «vendor_name» credentials\nkey: «vendor_value»\n",
    ),
    choice(
        P,
        "secret-for-staging",
        "the secret for staging is «api_key», and prod uses a different one that «person» keeps.\n",
        "The client secret for the «env» app is «api_key». The client id is «uuid».\n",
    ),
    text(
        P,
        "german-credentials",
        "Hallo «recipient_given», das Passwort für den «env»-Server lautet «password». "
        "Der API-Schlüssel ist «vendor_value». Bitte nicht weitergeben. Gruß, «sender_given»\n",
    ),
    text(
        P,
        "french-credentials",
        "Bonjour «recipient_given», le mot de passe de la base est «password» et la clé "
        "d'API pour «env» est «api_key». Merci de la changer après le «date». Cordialement, «sender»\n",
    ),
    text(
        P,
        "spanish-credentials",
        "Hola «recipient_given», la contraseña del servidor es «password». El token de "
        "acceso es «vendor_value». Cualquier cosa me llamas al «phone_intl». Saludos, «sender_given»\n",
    ),
    text(
        P,
        "portuguese-credentials",
        "Oi «recipient_given», a senha do banco é «password» e a chave da API é "
        "«api_key». O pedido «order» já foi liberado. Abraço, «sender»\n",
    ),
    choice(
        P,
        "my-social",
        "my social is «ssn_bare», can you check whether the form went through?\n",
        "For the background check: SSN# «ssn_bare», date of birth on file, ticket «ticket».\n",
        "Please verify applicant «person», social security number «ssn_bare», phone «phone».\n",
        "«person»'s SSN is «ssn» — they asked us to update her W-4 by «weekday».\n",
    ),
    choice(
        P,
        "bank-words",
        "Please wire it to account number «bank», routing «aba», at the «city» branch.\n",
        "My checking account is «bank» (routing number «aba»). The invoice is «order».\n",
        "Send the deposit to acct «bank», ABA «aba». Amount «price», reference «order».\n",
    ),
    choice(
        P,
        "card-read-out",
        "Customer read out the card: «card», exp 09/28, for order «order» («price»).\n",
        "Charge «card» for the renewal; the old card «non_luhn» was a typo on the form.\n",
        "«person» paid with «card» at the «city» store on «weekday».\n",
    ),
    choice(
        P,
        "call-me",
        "Call me at «phone_ext» or on my mobile «phone_national» after 5pm.\n",
        "You can reach «person» at «phone_intl», or the front desk at «phone_ext».\n",
        "My number changed to «phone_national»; the old one «phone» is disconnected.\n",
    ),
    choice(
        P,
        "names-in-prose",
        "I spoke with «person» yesterday about the «product» migration; «person» will join the call on «weekday».\n",
        "Met «person» and «given» from «company» in «city». They want a demo of «product» before «date».\n",
        "Per «person», the «city» team (led by «person») owns the "
        "«product» rollout. Dr. «person» signs off on «weekday».\n",
    ),
    choice(
        P,
        "assistant-prompt",
        "Rewrite this message more politely: 'Hey «given», you forgot to send the files "
        "again. Send them to «email» by «weekday» or call «phone». Thanks, Team'\n",
        "Summarise: «person» (employee «order», SSN «ssn») was transferred to the «city» office on «date». "
        "Contact: «email».\n",
        "Translate to French: Dear «person», your order «order» shipped with tracking «tracking». Regards, Support\n",
    ),
    choice(
        P,
        "ip-and-hosts",
        "The attacker came from «ip» and then «ipv6»; our WAF logged request «request_id» at «iso».\n",
        "We whitelisted «ipv4» for «person»'s VPN; the MAC «mac» is the docking station.\n",
    ),
    choice(
        P,
        "iban-prose",
        "Bitte überweisen Sie «price» auf IBAN «iban» (Kontoinhaber: «person»).\n",
        "Please pay the deposit to «iban», account holder «person», reference «order».\n",
        "Merci de virer le solde sur le compte «iban» au nom de «person».\n",
    ),
    choice(
        P,
        "aws-prose",
        "the aws keys for the «env» bucket are «aws_id» / «aws_secret», I'll rotate them «weekday».\n",
        "AWS access key id «aws_id», secret access key «aws_secret», region eu-central-1.\n",
    ),
    choice(
        P,
        "pasted-key",
        "Why does this fail? ssh -i key.pem ubuntu@«ipv4»\n\n«private_key»\n",
        "Can you tell me what's wrong with my JWT «jwt» ? It was issued at «epoch».\n",
    ),
)
