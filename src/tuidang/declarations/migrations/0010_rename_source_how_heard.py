# "source" was how the caller heard of the number: renamed in place, the rows kept.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('declarations', '0009_declared_on_unindexed'),
    ]

    operations = [
        migrations.RenameField(
            model_name='declaration',
            old_name='source',
            new_name='how_heard',
        ),
        migrations.AlterField(
            model_name='declaration',
            name='how_heard',
            field=models.CharField(blank=True, max_length=16, verbose_name='how heard'),
        ),
    ]
