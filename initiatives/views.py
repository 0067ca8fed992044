from django.shortcuts import render

from cxprogram.tenancy.decorators import tenant_view


@tenant_view("initiatives.view")
def index(request):
    return render(request, "initiatives/index.html")
