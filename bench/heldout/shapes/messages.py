"""Support e-mails (headers with display names, greetings, sign-offs, signatures with phones and extensions) and
chat transcripts (Slack-like copies, ``speaker: text`` lines, names in prose)."""

from __future__ import annotations

from bench.heldout.template import Template, choice, text

E = "email"
C = "chat"

TEMPLATES: tuple[Template, ...] = (
    text(
        E,
        "refund-request",
        """From: «sender» <«sender_email»>
To: «team» <«role_email»>
Date: «iso»
Subject: Refund for order «order»

Hi «recipient_given»,

I was charged twice on «weekday» for order «order» («price»). The card on file is «card», and I'd like the
refund to go back to it. You can reach me at «phone_ext» if anything is unclear.

Best regards,
«sender»
«phone»
""",
    ),
    text(
        E,
        "payroll-change",
        """From: "«sender»" <«sender_email»>
To: «recipient_email»
Cc: «person» <«email»>
Subject: Direct deposit change

Hello «recipient_given»,

Please update my direct deposit before the «date» run:

  Bank routing: «aba»
  Account number: «bank»
  SSN: «ssn»

Thanks,
«sender_given»
""",
    ),
    text(
        E,
        "vendor-invoice",
        """From: «company» Billing <«role_email»>
To: «recipient» <«recipient_email»>
Subject: Invoice «order» is due

Dear «recipient»,

Invoice «order» for «price» is due on «date». Please transfer the amount to IBAN «iban» and quote the invoice
number as reference. Tracking for the shipment: «tracking».

Kind regards,
«team»
«company»
""",
    ),
    text(
        E,
        "it-access",
        """From: «sender» <«sender_email»>
To: IT Service Desk <«role_email»>
Subject: Re: VPN access (ticket «ticket»)

Hi «recipient_given»,

the VPN keeps dropping from «ip». I reset it as you said; my new password is «password» in case you need to
test the profile. The laptop's MAC is «mac», client version «version».

Cheers,
«sender_given»

--
«sender» | Senior Analyst, «city» office
T «phone_ext» | M «phone_intl»
""",
    ),
    text(
        E,
        "forwarded-complaint",
        """---------- Forwarded message ---------
From: «recipient» <«recipient_email»>
Date: «weekday», «date»
Subject: Complaint

Hello,

my name is «recipient» and I have been a customer since «date». Your agent «person» promised a call back on
«phone_national» but nobody called. My account number is «bank».

«recipient»

---

«sender_given», can you take this one? Ticket «ticket».
""",
    ),
    text(
        E,
        "intro",
        """From: «sender» <«sender_email»>
To: «recipient» <«recipient_email»>, «person» <«email»>
Subject: Intro: «recipient_given» <> «person»

Hi both,

«recipient_given», meet «person», who runs data engineering at «company» in «city». «person» meet
«recipient_given», our new platform lead. I'll let you two take it from here.

Best,
«sender_given»
""",
    ),
    text(
        E,
        "credential-handover",
        """From: «sender» <«sender_email»>
To: «recipient_email»
Subject: staging credentials

Hey «recipient_given»,

As discussed on the call, here is the key for staging: «vendor_value»

The database user is «user», password «password». Please move both into the vault and delete this mail.

Regards,
«sender»
Platform Engineering · «company»
Direct: «phone_ext»
""",
    ),
    text(
        E,
        "medical-office",
        """From: «team» <«role_email»>
To: «recipient» <«recipient_email»>
Subject: Appointment confirmation

Dear «recipient»,

your appointment with Dr. «person» is confirmed for «weekday» («date») at 10:30. If you need to reschedule,
call the front desk at «phone_us» or reply to this e-mail. Please bring your insurance card; the policy holder
on file is «person», SSN ending in the last four digits you gave us.

Sincerely,
«team»
""",
    ),
    text(
        E,
        "german-support",
        """Von: «sender» <«sender_email»>
An: «role_email»
Betreff: Rückerstattung Bestellung «order»

Hallo «recipient_given»,

bitte überweisen Sie den Betrag von «price» auf mein Konto, IBAN «iban». Sie erreichen mich unter «phone_national».

Mit freundlichen Grüßen
«sender»
""",
    ),
    text(
        E,
        "spanish-support",
        """De: «sender» <«sender_email»>
Para: «role_email»
Asunto: Problema con mi tarjeta

Hola «recipient_given»:

Me cobraron dos veces con la tarjeta «card». Mi teléfono es «phone_intl». Pedido «order», fecha «date».

Un saludo,
«sender»
""",
    ),
    choice(
        C,
        "slack-copy",
        """«sender»  10:42 AM
anyone know why the nightly export failed? job «request_id»
«recipient»  10:44 AM
looks like the token expired. new one: «vendor_value»
«sender»  10:45 AM
thanks «recipient_given»! rerunning build «build» now
«person»  10:51 AM
fyi the customer on that ticket is «person», phone «phone»
""",
        """«sender»  2:03 PM
@«recipient_given» can you check the charge on «card»? customer says it was declined «weekday»
«recipient»  2:07 PM
declined for AVS, zip on file was «zip»
«sender»  2:08 PM
ok, refunding «price» on order «order»
""",
    ),
    text(
        C,
        "speaker-lines",
        """«sender_given»: morning! is the db password still «password»?
«recipient_given»: no, rotated it «weekday», ask «person»
«sender_given»: ok. btw the prod host is «ip»
«recipient_given»: yep, and don't paste keys here please
«sender_given»: too late lol: «api_key»
«recipient_given»: 🙃 rotating
""",
    ),
    text(
        C,
        "support-widget",
        """[«iso»] Visitor: hi, I can't log in
[«iso»] «recipient_given» (Support): Hi! I'm «recipient_given», happy to help. What's the e-mail on the account?
[«iso»] Visitor: «email»
[«iso»] «recipient_given» (Support): Thanks. Can you confirm the last order number?
[«iso»] Visitor: «order». My name is «person» and my phone is «phone»
[«iso»] «recipient_given» (Support): Found it. I've sent a reset link. Ticket «ticket» for reference.
""",
    ),
    text(
        C,
        "teams-thread",
        """«sender» (Guest)
Hi «recipient_given», the bank says the transfer to «iban» bounced. Can you double check?
«recipient»
Checked with «person» from treasury: the account holder name was wrong. Resending «weekday».
«sender» (Guest)
great, thank you! my direct line is «phone_ext» if needed
""",
    ),
    text(
        C,
        "irc-log",
        """[09:14] <«sender_given»> who has the creds for the «env» broker?
[09:15] <«recipient_given»> «person» does, or use the vault
[09:15] <«sender_given»> vault says: token: «vendor_value»
[09:16] <«recipient_given»> that's the «env» one, fine. server is «ipv6»
[09:17] <«sender_given»> cheers, deploying «version»
""",
    ),
    text(
        C,
        "whatsapp-export",
        """\
«date», 18:02 - «sender»: Hi «recipient_given», it's «sender_given» from the «city» office
«date», 18:03 - «recipient»: hey! what's up
«date», 18:05 - «sender»: can you send me your SSN for the onboarding form? HR needs it today
«date», 18:09 - «recipient»: sure, it's «ssn»
«date», 18:10 - «sender»: thanks! and the routing «aba» / account «bank» for payroll
«date», 18:12 - «recipient»: that's right. call me on «phone_national» if there's an issue
""",
    ),
    text(
        C,
        "discord-ish",
        """«sender_given» — Today at 8:12 PM
the bot keeps crashing, here's the config
«sender_given» — Today at 8:13 PM
TOKEN = «vendor_value»
«recipient_given» — Today at 8:15 PM
bro never post that in a channel, revoke it. «person» had the same thing last «weekday»
""",
    ),
)
