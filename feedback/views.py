from django.shortcuts import render

from cxprogram.tenancy.decorators import tenant_view


@tenant_view("feedback.view")
def index(request):
    return render(request, "feedback/index.html")
