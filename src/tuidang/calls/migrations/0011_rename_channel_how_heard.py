# "channel" named how a caller heard of the number, which a declaration's channel (its
# medium) does not: renamed in place, the rows and their values kept.

from django.db import migrations, models

HOW_HEARD = [('banknotes', 'Banknotes'), ('flyers', 'Flyers'), ('radio', 'Radio'), ('website', 'Website'), ('referral', 'Referral'), ('other', 'Other'), ('unknown', 'Unknown')]


class Migration(migrations.Migration):

    dependencies = [
        ('calls', '0010_call_screening_policy_choices'),
    ]

    operations = [
        migrations.RenameField(
            model_name='hotlinenumber',
            old_name='channel',
            new_name='how_heard',
        ),
        migrations.AlterField(
            model_name='hotlinenumber',
            name='how_heard',
            field=models.CharField(choices=HOW_HEARD, max_length=16, verbose_name='how callers hear of it'),
        ),
        migrations.RenameField(
            model_name='call',
            old_name='channel',
            new_name='how_heard',
        ),
        migrations.AlterField(
            model_name='call',
            name='how_heard',
            field=models.CharField(choices=HOW_HEARD, max_length=16, verbose_name='how heard'),
        ),
        migrations.AlterField(
            model_name='hotlinenumber',
            name='ask_how_heard',
            field=models.BooleanField(default=False, help_text='For numbers whose how-heard is Unknown.', verbose_name='ask callers how they heard of the number'),
        ),
    ]
