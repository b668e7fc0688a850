"""Background work of accounts: thin wrappers around the services."""

from celery import shared_task

from accounts import services


@shared_task(acks_late=True)
def notification_email_send(notification_id: int) -> bool:
    return services.notification_email_send(notification_id=notification_id)


@shared_task(acks_late=True)
def notification_emails_send(user_id: int) -> int:
    return services.notification_emails_send(user_id=user_id)


@shared_task(acks_late=True)
def notification_emails_overdue() -> int:
    return services.notification_emails_overdue()


@shared_task(acks_late=True)
def digests_send_due() -> int:
    return services.digests_send_due()


@shared_task(acks_late=True, background=True)
def data_export_build(export_id: int) -> str:
    export = services.data_export_build(export_id=export_id)
    return export.status if export is not None else "gone"


@shared_task(acks_late=True)
def data_exports_remove_expired() -> int:
    return services.data_exports_remove_expired()
