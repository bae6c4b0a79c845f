"""Ways a notice leaves the service: email (SMTP or the local mailbox), SMS (a provider
interface) and signed court webhooks. In-app notices are rows in the feed, pushed live by the API."""
