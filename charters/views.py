from django.shortcuts import render

from cxprogram.tenancy.decorators import tenant_view


@tenant_view("charter.view")
def index(request):
    return render(request, "charters/index.html")
