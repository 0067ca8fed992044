from django.shortcuts import render

from cxprogram.tenancy.decorators import tenant_view


@tenant_view("dashboards.view")
def index(request):
    return render(request, "metrics/index.html")
