"""Controllers: plain classes owned by the App that do the I/O through the ports.

They know no screen and no Textual; the App runs their calls as jobs (proclient/jobs.py) and
routes the results. card: the patient's reader; session: the professional's CPS, PIN and idle
lock; creation: the DMP service and the idempotency keys; paper: receipts, printing, journal.
"""
