"""Routes of the alerts' pages, included at / by config.web_urls."""

from django.urls import path

from integrations.alerts import views

urlpatterns = [
    path("runbooks/", views.runbook_list, name="runbooks"),
    path("runbooks/<slug:slug>/", views.runbook_page, name="runbook"),
    path("incidents/<int:pk>/", views.incident_page, name="incident"),
    path("incidents/<int:pk>/acknowledge/", views.incident_acknowledge_view, name="incident-acknowledge"),
    path("incidents/<int:pk>/snooze/", views.incident_snooze_view, name="incident-snooze"),
    path("incidents/<int:pk>/review/", views.incident_review_view, name="incident-review"),
    path("incidents/<int:pk>/replay/", views.incident_replay_view, name="incident-replay"),
]
