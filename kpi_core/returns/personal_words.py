"""The words kpi_core/returns/personal_data.py looks for: headings of columns of personal data, titles, common
given names, and the words that make a capitalised phrase a place, an organisation or a category instead of a person.
"""

from __future__ import annotations

HEADERS = {
    "nhs_number": {"nhs number", "nhs no", "nhs num", "nhs", "nhs id", "nhsno", "nhs number new", "chi",
                   "chi number", "chi no", "h c number", "hcn", "patient nhs number", "client nhs number"},
    "name": {"name", "names", "full name", "fullname", "first name", "firstname", "first names", "forename",
             "forenames", "given name", "given names", "christian name", "middle name", "middle names", "surname",
             "last name", "lastname", "family name", "patient name", "patient s name", "patients name",
             "client name", "client s name", "clients name", "service user name", "service user s name",
             "su name", "person name", "name of patient", "name of client", "name of service user",
             "preferred name", "known as"},
    "date_of_birth": {"dob", "d o b", "date of birth", "birth date", "birthdate", "date born", "born", "birthday",
                      "patient dob", "client dob"},
    "postcode": {"postcode", "post code", "postal code", "home postcode", "patient postcode", "client postcode",
                 "address", "home address", "address line", "full address"},
}
TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "master", "mr.", "mrs.", "ms.", "dr."})
# Words that make a capitalised phrase a place, an organisation or a category, not a person.
NOT_PEOPLE = frozenset("""
hospital centre center clinic surgery practice pharmacy health trust council service services team group house court
road street lane park ward school college university ltd limited cic plc nhs foundation partnership project programme
line station hall church mosque temple gurdwara synagogue unit hub medical place gardens square estate way avenue
close drive primary community care home lodge palace bridge green hill total other not known unknown and or of the
with without for in on at by from to white black asian mixed british irish any background role manager position
title date signed signature email telephone phone job organisation provider approved completed officer lead
coordinator worker commissioner director head nurse doctor pharmacist adviser advisor city borough county district
north south east west central upper lower new old great little yes no none male female man woman men women
""".split())
# Common given names in England and Wales (ONS birth registrations and the census, all ages), without those that
# are also ordinary words a category might use (Amber, Faith, Hope, Grace, Will, Mark, May, June, Rose, Christian).
GIVEN_NAMES = frozenset("""
james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony donald
steven stephen paul andrew joshua kenneth kevin brian george edward ronald timothy jason jeffrey ryan jacob gary
nicholas eric jonathan larry justin scott brandon benjamin samuel gregory frank alexander raymond patrick jack
dennis jerry tyler aaron jose adam henry nathan douglas zachary peter kyle walter ethan jeremy harold keith roger
noah gerald carl terry sean austin arthur lawrence jesse dylan bryan joe jordan billy bruce albert gabriel logan
alan wayne roy ralph eugene vincent russell elijah louis bobby philip johnny oliver harry charlie leo oscar archie
alfie freddie theo arlo muhammad mohammed mohammad ali ahmed hassan ibrahim omar yusuf isaac lucas mason finley
jayden lewis callum connor kieran liam declan ian graham neil colin barry trevor nigel malcolm derek stuart craig
darren dean shaun wesley gavin martin simon tony jamie luke jake toby reuben sebastian rory dominic marcus tom dan
ben sam alex chris mike steve dave rob andy nick tim tariq imran bilal hamza kwame kofi tunde emeka chinedu
dariusz piotr tomasz krzysztof mehmet mustafa raj sanjay amit vijay arjun rahul mary patricia jennifer linda
elizabeth barbara susan jessica sarah karen nancy lisa margaret betty sandra ashley dorothy kimberly emily donna
michelle carol amanda melissa deborah stephanie rebecca laura sharon cynthia kathleen amy shirley angela helen
anna brenda pamela nicole samantha katherine emma ruth christine catherine debra rachel carolyn janet virginia
maria heather diane julie joyce victoria kelly christina lauren joan evelyn olivia judith megan cheryl martha
andrea frances hannah jacqueline ann anne jean alice kathryn gloria teresa sara janice doris julia marie madison
judy theresa beverly denise marilyn danielle abigail natalie sophia sophie isabella charlotte amelia isla ava mia
freya lily florence poppy ella evie isabelle chloe holly lucy ellie katie zoe leah gemma kirsty claire clare
nicola louise joanne kerry lindsay tracey tracy wendy jane gillian alison fiona lorraine jacqui hayley natasha
stacey aisha fatima maryam zainab amina khadija ayesha priya anjali sunita asha chidinma ngozi abena agnieszka
katarzyna magdalena anita eileen sheila pauline maureen irene valerie sylvia bethany georgia millie molly phoebe
scarlett matilda elsie rosie imogen harriet eleanor esther naomi leanne kayleigh shannon chelsea jasmine erin
niamh siobhan aoife caitlin sian bronwen rhiannon eilidh morag ellen jenny kate liz sue jo bernard stanley
leonard norman clive geoffrey gladys mildred edna ethel hilda vera winifred
""".split())
