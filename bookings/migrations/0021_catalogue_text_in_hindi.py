"""The catalogue's text in English and Hindi (django-modeltranslation, bookings/translation.py).

Each translated field gets `_en` and `_hi` columns. The English ones take the text the
rows have; the seeded services get their Hindi name and description (only where the
manager has not written one); and every booked item gets its service's Hindi name when
it still bears the name it was booked under (a service renamed since keeps its items'
English only: the Hindi would name something else).
"""

from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery

# English name: (Hindi name, Hindi description), the services of 0002_seed_services.
SEEDED_IN_HINDI = {
    "General Physician Consultation": (
        "सामान्य चिकित्सक परामर्श",
        "सामान्य चिकित्सक (जनरल फ़िज़िशियन) से परामर्श।",
    ),
    "Specialist Consultation": (
        "विशेषज्ञ परामर्श",
        "हृदय रोग, त्वचा रोग या नाक-कान-गला (ईएनटी) विशेषज्ञ से परामर्श।",
    ),
    "Complete Blood Count (CBC)": (
        "संपूर्ण रक्त गणना (सीबीसी)",
        "हीमोग्लोबिन, रक्त कोशिकाएँ और प्लेटलेट्स।",
    ),
    "Lipid Profile": (
        "लिपिड प्रोफ़ाइल",
        "कोलेस्ट्रॉल और ट्राइग्लिसराइड, 12 घंटे के उपवास के बाद।",
    ),
    "Thyroid Profile (T3, T4, TSH)": (
        "थायरॉइड प्रोफ़ाइल (टी3, टी4, टीएसएच)",
        "थायरॉइड की कार्यक्षमता की रक्त जाँच।",
    ),
    "HbA1c": (
        "एचबीए1सी (ग्लाइकेटेड हीमोग्लोबिन)",
        "पिछले तीन महीनों की औसत रक्त शर्करा।",
    ),
    "Chest X-Ray": (
        "छाती का एक्स-रे",
        "रिपोर्ट के साथ छाती का डिजिटल एक्स-रे।",
    ),
    "ECG": (
        "ईसीजी",
        "आराम की अवस्था में 12-लीड इलेक्ट्रोकार्डियोग्राम।",
    ),
    "Ultrasound Abdomen": (
        "पेट का अल्ट्रासाउंड",
        "रिपोर्ट के साथ पूरे पेट का अल्ट्रासाउंड।",
    ),
    "2D Echocardiogram": (
        "2डी इकोकार्डियोग्राम",
        "हृदय रोग विशेषज्ञ की रिपोर्ट के साथ हृदय का अल्ट्रासाउंड।",
    ),
    "CT Scan (Head)": (
        "सीटी स्कैन (सिर)",
        "रिपोर्ट के साथ सिर का सादा सीटी स्कैन।",
    ),
    "MRI Scan": (
        "एमआरआई स्कैन",
        "रिपोर्ट के साथ शरीर के एक हिस्से का एमआरआई।",
    ),
}


def copy_and_seed(apps, schema_editor):
    MedicalService = apps.get_model("bookings", "MedicalService")
    BookingItem = apps.get_model("bookings", "BookingItem")
    MedicalService.objects.update(name_en=F("name"), description_en=F("description"))
    for english, (name, description) in SEEDED_IN_HINDI.items():
        MedicalService.objects.filter(name=english, name_hi__isnull=True).update(name_hi=name)
        MedicalService.objects.filter(name=english, description_hi__isnull=True).update(
            description_hi=description
        )
    BookingItem.objects.update(name_en=F("name"))
    BookingItem.objects.filter(name=F("service__name")).update(
        name_hi=Subquery(
            MedicalService.objects.filter(pk=OuterRef("service_id")).values("name_hi")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("bookings", "0020_service_sac_and_gst_rate")]

    operations = [
        migrations.AddField(
            model_name="bookingitem",
            name="name_en",
            field=models.CharField(max_length=120, null=True),
        ),
        migrations.AddField(
            model_name="bookingitem",
            name="name_hi",
            field=models.CharField(max_length=120, null=True),
        ),
        migrations.AddField(
            model_name="medicalservice",
            name="description_en",
            field=models.TextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="medicalservice",
            name="description_hi",
            field=models.TextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="medicalservice",
            name="name_en",
            field=models.CharField(max_length=120, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="medicalservice",
            name="name_hi",
            field=models.CharField(max_length=120, null=True, unique=True),
        ),
        migrations.RunPython(copy_and_seed, migrations.RunPython.noop),
    ]
