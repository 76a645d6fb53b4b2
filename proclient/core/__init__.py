"""The core: the trade's nouns and rules, the creation flow as a pure state machine, and what
every layer shares (settings, problems, i18n, logsafe, fileutil). No Textual, pyscard, httpx,
reportlab or server library, and no other proclient package: everything else imports it."""
