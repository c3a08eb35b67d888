from django.urls import URLPattern, path

from reports.finance import views

urlpatterns: list[URLPattern] = [
    path("reports/", views.report_index, name="finance-reports"),
    path("reports/exports/<int:pk>/", views.export_job_page, name="finance-export-job"),
    path("reports/exports/<int:pk>/download/", views.export_job_download, name="finance-export-download"),
    path("reports/<slug:slug>/", views.report_page, name="finance-report"),
    path("reports/<slug:slug>/export.<str:file_format>", views.report_export, name="finance-report-export"),
]
