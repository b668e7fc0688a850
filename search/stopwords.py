"""Stop words of PostgreSQL's ``norwegian`` and ``english`` text search configurations.

Copied from PostgreSQL 15's tsearch_data/norwegian.stop and english.stop (the
Snowball lists), so that the embedded SQLite index drops the same words.
"""

_NORWEGIAN_WORDS = """
alle at av bare begge ble blei bli blir blitt både båe da de deg dei deim deira deires dem
den denne der dere deres det dette di din disse ditt du dykk dykkar då eg ein eit eitt
eller elles en enn er et ett etter for fordi fra før ha hadde han hans har hennar henne
hennes her hjå ho hoe honom hoss hossen hun hva hvem hver hvilke hvilken hvis hvor hvordan
hvorfor i ikke ikkje ingen ingi inkje inn inni ja jeg kan kom korleis korso kun kunne kva
kvar kvarhelst kven kvi kvifor man mange me med medan meg meget mellom men mi min mine
mitt mot mykje ned no noe noen noka noko nokon nokor nokre nå når og også om opp oss over
på samme seg selv si sia sidan siden sin sine sitt sjøl skal skulle slik so som somme somt
så sånn til um upp ut uten var vart varte ved vere verte vi vil ville vore vors vort vår
være vært å
"""

_ENGLISH_WORDS = """
a about above after again against all am an and any are as at be because been before being
below between both but by can did do does doing don down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own s same she should so some such t than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with you your yours yourself yourselves
"""

NORWEGIAN = frozenset(_NORWEGIAN_WORDS.split())
ENGLISH = frozenset(_ENGLISH_WORDS.split())
