"""Write the SYNTHETIC demo data set, byte for byte reproducibly, in the exact upstream formats.

Every sentence, note, question and name below was invented for cluebench; none comes from a real
patient or from the real datasets (MedNLI, MeQSum, BioNLP 2023 1A, LongHealth, MeDiSumQA,
MeDiSumCode). The set lets `clue run` work out of the box and lets tests exercise every reader;
scores on it mean nothing.

Usage:  python src/cluebench/datasets/demo/make_demo.py [OUT_DIR]   (default: this folder)
Needs only the standard library and openpyxl.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import zipfile
from datetime import datetime
from pathlib import Path

MARK = "SYNTHETIC"
NOTE_BANNER = "[SYNTHETIC DEMO NOTE - invented for cluebench, not real patient data]"
FIXED_TIME = datetime(2024, 1, 1, 0, 0, 0)
FIXED_STAMP = b"2024-01-01T00:00:00Z"

# --------------------------------------------------------------------------------------------
# MedNLI: (sentence1, sentence2, gold_label)
# --------------------------------------------------------------------------------------------
MEDNLI = [
    ("Labs on admission were notable for a creatinine of 2.9, up from a baseline of 1.1.",
     "The patient has acute kidney injury.", "entailment"),
    ("Labs on admission were notable for a creatinine of 2.9, up from a baseline of 1.1.",
     "The patient's renal function is at baseline.", "contradiction"),
    ("Labs on admission were notable for a creatinine of 2.9, up from a baseline of 1.1.",
     "The patient was recently started on an ACE inhibitor.", "neutral"),
    ("She reports three days of productive cough, fevers to 101.8 and pleuritic chest pain.",
     "The patient has a respiratory infection.", "entailment"),
    ("She reports three days of productive cough, fevers to 101.8 and pleuritic chest pain.",
     "The patient has been afebrile at home.", "contradiction"),
    ("She reports three days of productive cough, fevers to 101.8 and pleuritic chest pain.",
     "The patient is a current smoker.", "neutral"),
    ("He was found down at home by his son, last seen well 14 hours earlier.",
     "The time of symptom onset is unknown.", "entailment"),
    ("He was found down at home by his son, last seen well 14 hours earlier.",
     "The patient presented within one hour of symptom onset.", "contradiction"),
    ("He was found down at home by his son, last seen well 14 hours earlier.",
     "The patient has rhabdomyolysis.", "neutral"),
    ("ECG showed atrial fibrillation with a ventricular rate of 134.",
     "The patient has an irregular heart rhythm.", "entailment"),
    ("ECG showed atrial fibrillation with a ventricular rate of 134.",
     "The patient is bradycardic.", "contradiction"),
    ("ECG showed atrial fibrillation with a ventricular rate of 134.",
     "The patient is anticoagulated with apixaban.", "neutral"),
    ("The patient denies any history of alcohol or illicit drug use.",
     "The patient reports no substance use.", "entailment"),
    ("The patient denies any history of alcohol or illicit drug use.",
     "The patient drinks six beers daily.", "contradiction"),
    ("Hemoglobin A1c was 11.2% and fingersticks ranged from 250 to 380.",
     "The patient's diabetes is poorly controlled.", "entailment"),
    ("Hemoglobin A1c was 11.2% and fingersticks ranged from 250 to 380.",
     "The patient has diabetic retinopathy.", "neutral"),
    ("CT of the head showed no acute intracranial hemorrhage.",
     "The patient has a subdural hematoma.", "contradiction"),
    ("CT of the head showed no acute intracranial hemorrhage.",
     "The patient fell before admission.", "neutral"),
    ("She was intubated in the field for airway protection and transferred to the ICU.",
     "The patient required mechanical ventilation.", "entailment"),
    ("Oxygen saturation was 97% on room air at rest and with ambulation.",
     "The patient requires home oxygen.", "contradiction"),
]

# --------------------------------------------------------------------------------------------
# MeQSum: (subject, message, summary); the CHQ is "SUBJECT: ...\nMESSAGE: ..." as upstream
# --------------------------------------------------------------------------------------------
MEQSUM = [
    ("metformin and kidneys", "My doctor put me on metformin 500 mg twice a day last month. I read online that it "
     "can damage the kidneys. My last blood test said my kidney function was a little low. Should I stop taking it?",
     "Can metformin damage the kidneys, and should it be stopped if kidney function is low?"),
    ("shingles vaccine question", "I am 62 and had chickenpox as a child. My friend got shingles and it was very "
     "painful. Do I need the shingles shot and how many doses are there?",
     "Who should get the shingles vaccine and how many doses are needed?"),
    ("ringing in ears", "For about 3 months I have a constant ringing in my left ear, worse at night. I work in "
     "a factory. Is there any treatment for this or will it go away?",
     "What are the treatments for tinnitus?"),
    ("son has nosebleeds", "My 8 year old son gets nosebleeds almost every week, mostly in winter. They stop "
     "after 10 minutes of pressure. Is this something serious?",
     "What causes frequent nosebleeds in children?"),
    ("blood pressure medicine cough", "Since starting lisinopril I have had a dry tickly cough that will not "
     "go away. No cold or fever. Could the pill be causing this?",
     "Can lisinopril cause a dry cough?"),
    ("gout diet", "I was told I have gout after my big toe swelled up. What foods should I stay away from? "
     "I eat a lot of red meat and drink beer on weekends.",
     "What foods should be avoided with gout?"),
    ("thyroid pills with coffee", "I take levothyroxine every morning. Is it ok to take it with my coffee "
     "and breakfast or do I need to wait?",
     "Should levothyroxine be taken apart from coffee and food?"),
    ("Lyme disease after tick", "I pulled a tick off my leg yesterday after hiking. There is a small red bump. "
     "Do I need antibiotics to prevent Lyme disease?",
     "Are preventive antibiotics needed after a tick bite?"),
    ("hands numb at night", "My hands go numb and tingle at night, mostly the thumb and first two fingers. "
     "I type all day at work. What could this be and how is it treated?",
     "What causes nighttime hand numbness and how is carpal tunnel syndrome treated?"),
    ("statin muscle pain", "Since I started atorvastatin my legs ache all the time. Is this a side effect and "
     "what should I do about it?",
     "Can atorvastatin cause muscle pain and how is it managed?"),
    ("celiac testing", "My sister was diagnosed with celiac disease. I get bloating and diarrhea after bread. "
     "Should I be tested and do I need to keep eating gluten before the test?",
     "How is celiac disease tested and must gluten be eaten before testing?"),
    ("iron pills constipation", "I was prescribed iron tablets for anemia but they make me very constipated. "
     "Is there another form of iron I can take?",
     "What are alternatives to oral iron that cause less constipation?"),
    ("warfarin and vitamin K foods", "My father takes warfarin. Can he still eat spinach and broccoli or will "
     "it stop the medicine working?",
     "How do vitamin K-rich foods interact with warfarin?"),
    ("migraine in pregnancy", "I am 14 weeks pregnant and have bad migraines. What medicines are safe to take?",
     "Which migraine medications are safe in pregnancy?"),
    ("psoriasis treatment", "I have red scaly patches on my elbows and knees for years. Creams help a little. "
     "Are there newer treatments for psoriasis?",
     "What are the newer treatments for psoriasis?"),
    ("hepatitis B vaccine adult", "I am a nursing student and never got the hepatitis B vaccine as a child. "
     "Is it too late to get it?",
     "Can adults receive the hepatitis B vaccine?"),
    ("kidney stones prevention", "I have had two kidney stones in the last year. What can I do to stop "
     "getting more of them?",
     "How can kidney stones be prevented?"),
    ("child fever medicine dose", "How much children's ibuprofen can I give my 3 year old who weighs 15 kg "
     "for a fever?",
     "What is the ibuprofen dose for a 15 kg child?"),
    ("sleep apnea machine", "My husband snores and stops breathing at night. The doctor wants a sleep study. "
     "What happens if he has sleep apnea, does he need a machine?",
     "How is obstructive sleep apnea treated?"),
    ("osteoporosis medicine how long", "I have taken alendronate for 6 years for osteoporosis. How long "
     "should I stay on it?",
     "How long should alendronate be taken for osteoporosis?"),
]

# --------------------------------------------------------------------------------------------
# Problem Summary (BioNLP 2023 1A): (subjective, objective, assessment, summary with "; ")
# --------------------------------------------------------------------------------------------
PROBLEM_SUMMARY = [
    ("CC: shortness of breath.\nHPI: 71 yo M with HFrEF (EF 25%) presents with 5 days of worsening dyspnea, "
     "orthopnea and 4 kg weight gain after running out of furosemide.",
     "T 36.8 HR 104 BP 142/88 RR 24 SpO2 89% RA. JVP to angle of jaw, bibasilar crackles, 2+ pitting edema. "
     "BNP 2,310. CXR: pulmonary vascular congestion.",
     "71 yo M with chronic systolic heart failure presenting with acute decompensation in the setting of "
     "medication nonadherence, with hypoxemia.",
     "Acute on chronic systolic heart failure; Hypoxemia; Medication nonadherence"),
    ("CC: fever, cough.\nHPI: 58 yo F with COPD on 2L home O2 with 3 days of increased sputum, fevers and "
     "dyspnea. Daughter reports new confusion today.",
     "T 38.9 HR 118 BP 92/54 RR 28 SpO2 86% on 2L. Rhonchi right base. WBC 17.4, lactate 3.1. CXR: right lower "
     "lobe consolidation.",
     "58 yo F with COPD presenting with sepsis from right lower lobe pneumonia with COPD exacerbation and "
     "acute on chronic hypoxemic respiratory failure.",
     "Sepsis; Right lower lobe pneumonia; COPD exacerbation; Acute on chronic hypoxemic respiratory failure"),
    ("CC: vomiting.\nHPI: 24 yo M with type 1 diabetes, ran out of insulin 2 days ago, now nausea, vomiting, "
     "abdominal pain.",
     "HR 122 BP 108/64 RR 30. Glucose 512, bicarbonate 9, anion gap 28, beta-hydroxybutyrate 6.2, K 5.6.",
     "24 yo M with type 1 diabetes presenting with diabetic ketoacidosis after insulin omission.",
     "Diabetic ketoacidosis; Type 1 diabetes mellitus; Hyperkalemia"),
    ("CC: black stools.\nHPI: 66 yo M on naproxen for knee pain with 2 days of melena and lightheadedness.",
     "HR 112 BP 96/60. Hgb 6.8 (baseline 13). BUN 58. EGD: 1.5 cm duodenal ulcer with visible vessel, clipped.",
     "66 yo M with upper GI bleed from NSAID-associated duodenal ulcer with acute blood loss anemia.",
     "Upper gastrointestinal bleed; Duodenal ulcer; Acute blood loss anemia; NSAID use"),
    ("CC: right sided weakness.\nHPI: 79 yo F with atrial fibrillation not on anticoagulation, found at 09:00 "
     "with right arm weakness and word-finding difficulty, last known well 07:30.",
     "NIHSS 9. CT head no hemorrhage. CTA: left M2 occlusion. Irregularly irregular rhythm.",
     "79 yo F with atrial fibrillation presenting with acute left MCA ischemic stroke, likely cardioembolic.",
     "Acute ischemic stroke; Left MCA occlusion; Atrial fibrillation"),
    ("CC: abdominal pain.\nHPI: 45 yo F with gallstones and 1 day of epigastric pain radiating to the back, "
     "with nausea.",
     "Lipase 3,400. ALT 210, AST 180, bilirubin 2.4. RUQ ultrasound: cholelithiasis, CBD 8 mm.",
     "45 yo F with acute gallstone pancreatitis with possible choledocholithiasis.",
     "Acute pancreatitis; Gallstone pancreatitis; Choledocholithiasis"),
    ("CC: leg swelling.\nHPI: 52 yo M 10 days after right knee replacement with painful swelling of the right calf.",
     "Right calf 4 cm larger than left. Duplex: occlusive thrombus of right popliteal vein. SpO2 98% RA.",
     "52 yo M with provoked right lower extremity deep vein thrombosis after knee arthroplasty.",
     "Deep vein thrombosis of right lower extremity; Status post right knee arthroplasty"),
    ("CC: confusion.\nHPI: 83 yo F from assisted living with 2 days of confusion and poor oral intake; "
     "dysuria per staff.",
     "T 38.2 HR 96. UA: large leukocyte esterase, nitrite positive. Na 149, Cr 1.8 (baseline 0.9).",
     "83 yo F with toxic-metabolic encephalopathy from urinary tract infection with hypernatremia and "
     "prerenal acute kidney injury.",
     "Urinary tract infection; Toxic metabolic encephalopathy; Hypernatremia; Acute kidney injury"),
    ("CC: chest pain.\nHPI: 61 yo M smoker with 40 minutes of substernal pressure radiating to the left arm.",
     "ECG: ST elevation in II, III, aVF. Troponin 4.2. Cath: 100% RCA occlusion, drug-eluting stent placed.",
     "61 yo M with inferior ST-elevation myocardial infarction treated with RCA stenting; tobacco use.",
     "Inferior ST elevation myocardial infarction; Coronary artery disease; Tobacco use"),
    ("CC: fall.\nHPI: 88 yo F tripped on a rug, unable to bear weight on the left leg.",
     "Left leg shortened and externally rotated. X-ray: displaced left femoral neck fracture. Hgb 10.9.",
     "88 yo F with mechanical fall and displaced left femoral neck fracture, status post hemiarthroplasty.",
     "Left femoral neck fracture; Mechanical fall; Anemia"),
    ("CC: weakness.\nHPI: 69 yo M with CKD stage 4 with 3 days of fatigue and palpitations after a course of "
     "trimethoprim-sulfamethoxazole.",
     "K 7.1, Cr 4.6 (baseline 3.2). ECG: peaked T waves.",
     "69 yo M with CKD stage 4 presenting with severe hyperkalemia and acute kidney injury, likely medication related.",
     "Hyperkalemia; Acute kidney injury; Chronic kidney disease stage 4"),
    ("CC: seizure.\nHPI: 34 yo F with epilepsy on levetiracetam, missed doses for a week, witnessed "
     "generalized seizure at work.",
     "Post-ictal on arrival, back to baseline in 2 hours. Tongue laceration. CT head negative.",
     "34 yo F with known epilepsy presenting with breakthrough generalized seizure due to missed doses.",
     "Breakthrough seizure; Epilepsy; Medication nonadherence"),
]

# --------------------------------------------------------------------------------------------
# Discharge notes for MeDiSumQA / MeDiSumCode, MIMIC-IV style (de-identification as "___").
# Each: (hadm_id, note_id, sex, service, body sections, discharge instructions, codes, QA pairs)
# --------------------------------------------------------------------------------------------
NOTES = [
    dict(
        hadm_id=29000001, note_id="SYNTHETIC-19000001-DS-1", sex="F", service="MEDICINE",
        complaint="Shortness of breath",
        hpi="Ms. ___ is a ___ year old woman with COPD and hypertension who presented with four days of "
            "worsening cough with green sputum and shortness of breath. She used her albuterol inhaler "
            "every two hours without relief.",
        pmh="COPD, hypertension, former smoker (40 pack-years).",
        course="She was treated for a COPD exacerbation with nebulizers, prednisone 40 mg daily and "
               "azithromycin. Chest x-ray showed no pneumonia. She needed 2 liters of oxygen on arrival, which "
               "was weaned to room air by day 3. Blood pressure was controlled on her home amlodipine.",
        diagnoses="Primary: COPD exacerbation\nSecondary: Hypertension",
        instructions="You were admitted to the hospital because of trouble breathing from a flare of your COPD. "
                     "While you were here:\n- You were treated with breathing treatments, steroids and an antibiotic.\n"
                     "- Your chest x-ray did not show pneumonia.\n- You were weaned off oxygen.\n"
                     "Please finish your prednisone as prescribed.",
        codes=[("J441", "Chronic obstructive pulmonary disease with (acute) exacerbation"),
               ("I10", "Essential (primary) hypertension"),
               ("Z87891", "Personal history of nicotine dependence")],
        qa=[("Did my chest x-ray show an infection in my lungs?", "Your chest x-ray did not show pneumonia."),
            ("How was my breathing problem treated?",
             "You were treated with breathing treatments, steroids and an antibiotic.")],
    ),
    dict(
        hadm_id=29000002, note_id="SYNTHETIC-19000002-DS-1", sex="M", service="MEDICINE",
        complaint="Black stools",
        hpi="Mr. ___ is a ___ year old man who takes ibuprofen daily for back pain and presented with two days "
            "of black stools and dizziness on standing.",
        pmh="Chronic low back pain, hyperlipidemia.",
        course="His hemoglobin was 7.1 on arrival and he received two units of blood. Endoscopy found a "
               "bleeding ulcer in the duodenum that was treated with clips. He was started on pantoprazole. "
               "Biopsies for H. pylori were negative. His hemoglobin remained stable at 9.0 for 48 hours.",
        diagnoses="Primary: Upper GI bleed from duodenal ulcer\nSecondary: Acute blood loss anemia, hyperlipidemia",
        instructions="You were admitted to the hospital because you had bleeding from your stomach.\n"
                     "- A camera test found a bleeding ulcer, which was treated with clips.\n"
                     "- You received two blood transfusions.\n- The test for the H. pylori bacteria was negative.\n"
                     "Please stop taking ibuprofen and other NSAIDs.",
        codes=[("K264", "Chronic or unspecified duodenal ulcer with hemorrhage"),
               ("D62", "Acute posthemorrhagic anemia"),
               ("E785", "Hyperlipidemia, unspecified"),
               ("M5450", "Low back pain, unspecified")],
        qa=[("What caused the bleeding?", "A camera test found a bleeding ulcer, which was treated with clips."),
            ("Did I need blood?", "You received two blood transfusions.")],
    ),
    dict(
        hadm_id=29000003, note_id="SYNTHETIC-19000003-DS-1", sex="F", service="NEUROLOGY",
        complaint="Right arm weakness",
        hpi="Ms. ___ is a ___ year old woman with atrial fibrillation, not on anticoagulation, who developed "
            "sudden right arm weakness and trouble finding words at breakfast.",
        pmh="Atrial fibrillation, type 2 diabetes, hypertension.",
        course="CT angiography showed a blocked left middle cerebral artery branch. She received tenecteplase "
               "and underwent thrombectomy with good reopening of the vessel. MRI showed a small left frontal "
               "infarct. Her speech improved and mild right hand weakness remained. She was started on apixaban "
               "for stroke prevention. Her diabetes was managed with insulin while inpatient.",
        diagnoses="Primary: Acute ischemic stroke, left MCA\nSecondary: Atrial fibrillation, type 2 diabetes, hypertension",
        instructions="You were admitted to the hospital because you had a stroke.\n"
                     "- A clot-dissolving medicine was given and the clot was removed with a catheter.\n"
                     "- Your MRI showed a small stroke on the left side of your brain.\n"
                     "- You were started on apixaban, a blood thinner, to prevent future strokes.",
        codes=[("I63512", "Cerebral infarction due to unspecified occlusion or stenosis of left middle cerebral artery"),
               ("I4891", "Unspecified atrial fibrillation"),
               ("E119", "Type 2 diabetes mellitus without complications"),
               ("I10", "Essential (primary) hypertension")],
        qa=[("What did my brain scan show?", "Your MRI showed a small stroke on the left side of your brain."),
            ("Why was I started on a new blood thinner?",
             "You were started on apixaban, a blood thinner, to prevent future strokes.")],
    ),
    dict(
        hadm_id=29000004, note_id="SYNTHETIC-19000004-DS-1", sex="M", service="MEDICINE",
        complaint="Nausea and vomiting",
        hpi="Mr. ___ is a ___ year old man with type 1 diabetes who ran out of insulin three days ago and "
            "presented with vomiting, abdominal pain and fast breathing.",
        pmh="Type 1 diabetes since age 12.",
        course="He was found to have diabetic ketoacidosis with a glucose of 540 and an anion gap of 27. He was "
               "treated in the ICU with an insulin drip and IV fluids, and his gap closed within 18 hours. He was "
               "transitioned to glargine and lispro. Social work helped him enroll in an insulin assistance program.",
        diagnoses="Primary: Diabetic ketoacidosis\nSecondary: Type 1 diabetes mellitus",
        instructions="You were admitted to the hospital because your blood sugar was very high and your blood "
                     "had become acidic (diabetic ketoacidosis).\n- You were treated in the ICU with insulin and fluids.\n"
                     "- Social work helped you sign up for a program to afford insulin.\n"
                     "Never stop your long-acting insulin, even when you are not eating.",
        codes=[("E1010", "Type 1 diabetes mellitus with ketoacidosis without coma"),
               ("Z91120", "Patient's intentional underdosing of medication regimen due to financial hardship")],
        qa=[("Where was I treated when I first arrived?", "You were treated in the ICU with insulin and fluids."),
            ("Did anyone help me with the cost of insulin?",
             "Social work helped you sign up for a program to afford insulin.")],
    ),
    dict(
        hadm_id=29000005, note_id="SYNTHETIC-19000005-DS-1", sex="F", service="SURGERY",
        complaint="Right upper quadrant pain",
        hpi="Ms. ___ is a ___ year old woman with known gallstones who presented with one day of severe "
            "upper abdominal pain radiating to her back, with nausea.",
        pmh="Obesity, gallstones, gastroesophageal reflux disease.",
        course="Lipase was 2,950 and ultrasound showed gallstones without a dilated bile duct. She was treated "
               "for gallstone pancreatitis with IV fluids, pain control and bowel rest. Her pain improved and "
               "her diet was advanced. She underwent laparoscopic cholecystectomy on hospital day 4 without "
               "complications.",
        diagnoses="Primary: Acute gallstone pancreatitis\nSecondary: Obesity, GERD",
        instructions="You were admitted to the hospital with inflammation of your pancreas caused by gallstones.\n"
                     "- You were treated with fluids and pain medicine.\n"
                     "- Your gallbladder was removed with a laparoscopic operation.\n"
                     "Do not lift more than 10 pounds for 2 weeks.",
        codes=[("K8510", "Biliary acute pancreatitis without necrosis or infection"),
               ("K8020", "Calculus of gallbladder without cholecystitis without obstruction"),
               ("E669", "Obesity, unspecified"),
               ("K219", "Gastro-esophageal reflux disease without esophagitis")],
        qa=[("What operation did I have?", "Your gallbladder was removed with a laparoscopic operation."),
            ("How was my pancreas inflammation treated?", "You were treated with fluids and pain medicine.")],
    ),
    dict(
        hadm_id=29000006, note_id="SYNTHETIC-19000006-DS-1", sex="F", service="MEDICINE",
        complaint="Confusion",
        hpi="Ms. ___ is an ___ year old woman with dementia living in assisted living who became more confused "
            "over two days, with fever and burning urination reported by staff.",
        pmh="Alzheimer dementia, hypothyroidism, osteoarthritis.",
        course="Urinalysis was consistent with infection and urine culture grew E. coli sensitive to "
               "ceftriaxone. She was treated with ceftriaxone and then oral cephalexin. Her sodium was 150 from "
               "poor intake and corrected with IV fluids. Her creatinine improved from 1.7 to 1.0. Her mental "
               "status returned to baseline.",
        diagnoses="Primary: E. coli urinary tract infection\nSecondary: Hypernatremia, acute kidney injury, dementia",
        instructions="", codes=[
            ("N390", "Urinary tract infection, site not specified"),
            ("B9620", "Unspecified Escherichia coli [E. coli] as the cause of diseases classified elsewhere"),
            ("E870", "Hyperosmolality and hypernatremia"),
            ("N179", "Acute kidney failure, unspecified"),
            ("G309", "Alzheimer's disease, unspecified"),
            ("E039", "Hypothyroidism, unspecified")],
        qa=[],
    ),
    dict(
        hadm_id=29000007, note_id="SYNTHETIC-19000007-DS-1", sex="M", service="CARDIOLOGY",
        complaint="Chest pain",
        hpi="Mr. ___ is a ___ year old man who smokes one pack per day and presented with crushing chest "
            "pain for one hour.",
        pmh="Hyperlipidemia, tobacco use.",
        course="ECG showed ST elevations in the inferior leads. Emergency catheterization found a blocked right "
               "coronary artery, which was opened with a drug-eluting stent. Echocardiogram showed an ejection "
               "fraction of 50%. He was started on aspirin, ticagrelor, high-intensity atorvastatin and metoprolol, "
               "and counseled on smoking cessation.",
        diagnoses="Primary: Inferior STEMI\nSecondary: Coronary artery disease, hyperlipidemia, tobacco use",
        instructions="", codes=[
            ("I2119", "ST elevation (STEMI) myocardial infarction involving other coronary artery of inferior wall"),
            ("I2510", "Atherosclerotic heart disease of native coronary artery without angina pectoris"),
            ("E785", "Hyperlipidemia, unspecified"),
            ("F17210", "Nicotine dependence, cigarettes, uncomplicated")],
        qa=[],
    ),
    dict(
        hadm_id=29000008, note_id="SYNTHETIC-19000008-DS-1", sex="F", service="ORTHOPAEDICS",
        complaint="Left hip pain after fall",
        hpi="Ms. ___ is an ___ year old woman who tripped at home and could not stand afterwards.",
        pmh="Osteoporosis, hypertension, chronic kidney disease stage 3a.",
        course="X-ray showed a displaced left femoral neck fracture. She underwent left hip hemiarthroplasty. "
               "Postoperative anemia to 8.4 did not require transfusion. She worked with physical therapy and "
               "was discharged to rehabilitation. Enoxaparin was given for clot prevention.",
        diagnoses="Primary: Left femoral neck fracture\nSecondary: Osteoporosis, CKD stage 3a, hypertension",
        instructions="", codes=[
            ("S72002A", "Fracture of unspecified part of neck of left femur, initial encounter for closed fracture"),
            ("M810", "Age-related osteoporosis without current pathological fracture"),
            ("I129", "Hypertensive chronic kidney disease with stage 1 through stage 4 chronic kidney disease, "
                     "or unspecified chronic kidney disease"),
            ("N1831", "Chronic kidney disease, stage 3a"),
            ("W010XXA", "Fall on same level from slipping, tripping and stumbling without subsequent striking "
                        "against object, initial encounter")],
        qa=[],
    ),
    dict(
        hadm_id=29000009, note_id="SYNTHETIC-19000009-DS-1", sex="M", service="MEDICINE",
        complaint="Leg swelling and shortness of breath",
        hpi="Mr. ___ is a ___ year old man with heart failure with reduced ejection fraction who stopped his "
            "furosemide two weeks ago and gained 5 kg.",
        pmh="Heart failure with reduced ejection fraction (EF 30%), atrial fibrillation, CKD stage 3b.",
        course="He was diuresed with IV furosemide and lost 6 kg. His breathing returned to baseline. Creatinine "
               "rose mildly from 1.9 to 2.2 and then stabilized. Rate control with metoprolol was continued and "
               "apixaban was continued for atrial fibrillation.",
        diagnoses="Primary: Acute on chronic systolic heart failure\nSecondary: Atrial fibrillation, CKD stage 3b",
        instructions="", codes=[
            ("I110", "Hypertensive heart disease with heart failure"),
            ("I5023", "Acute on chronic systolic (congestive) heart failure"),
            ("I4891", "Unspecified atrial fibrillation"),
            ("N1832", "Chronic kidney disease, stage 3b"),
            ("Z7901", "Long term (current) use of anticoagulants")],
        qa=[],
    ),
    dict(
        hadm_id=29000010, note_id="SYNTHETIC-19000010-DS-1", sex="F", service="MEDICINE",
        complaint="Fever and cough",
        hpi="Ms. ___ is a ___ year old woman with rheumatoid arthritis on methotrexate who presented with "
            "three days of fever, cough and low oxygen levels.",
        pmh="Rheumatoid arthritis, asthma.",
        course="Chest x-ray showed a right lower lobe pneumonia. She was treated with ceftriaxone and "
               "azithromycin and needed up to 3 liters of oxygen. Methotrexate was held during the infection. "
               "Blood cultures were negative. She was weaned to room air and completed antibiotics with oral "
               "cefpodoxime.",
        diagnoses="Primary: Community acquired pneumonia\nSecondary: Rheumatoid arthritis, asthma",
        instructions="", codes=[
            ("J189", "Pneumonia, unspecified organism"),
            ("J9601", "Acute respiratory failure with hypoxia"),
            ("M069", "Rheumatoid arthritis, unspecified"),
            ("J45909", "Unspecified asthma, uncomplicated"),
            ("Z79899", "Other long term (current) drug therapy")],
        qa=[],
    ),
]

# --------------------------------------------------------------------------------------------
# LongHealth: 3 invented patients x 4 short documents (body + appendix) x 3 questions; each question names the
# sentence (evidence) that answers it, from which answer_location is computed.
# --------------------------------------------------------------------------------------------
LONGHEALTH = {
    "patient_01": dict(
        name="SYNTHETIC Greta Holloway", birthday="1956-03-14", diagnosis="Diffuse large B-cell lymphoma",
        texts=[
            "Dear colleague, we report on Mrs. Greta Holloway, born 14/03/1956, who was admitted to our "
            "hematology ward from 02/05/2021 to 09/05/2021.\nDiagnosis: Diffuse large B-cell lymphoma, stage "
            "IIIA, with cervical, mediastinal and abdominal lymph node involvement.\nHistory: The patient "
            "noticed painless swelling on the left side of the neck over six weeks, accompanied by night sweats "
            "and a weight loss of 4 kg. An excisional biopsy of a left cervical lymph node confirmed diffuse "
            "large B-cell lymphoma, germinal center type, Ki-67 80%.\nStaging: PET-CT showed FDG-avid lymph "
            "nodes above and below the diaphragm, no bone marrow involvement on biopsy. LDH was elevated at "
            "412 U/l.\nTherapy: The first cycle of R-CHOP (rituximab, cyclophosphamide, doxorubicin, "
            "vincristine, prednisone) was started on 04/05/2021 and tolerated well. Prophylaxis with allopurinol "
            "and aciclovir was initiated.\nWe discharged Mrs. Holloway in good general condition and ask for "
            "weekly blood counts.",
            "Dear colleague, we report on Mrs. Greta Holloway, born 14/03/1956, who presented to our emergency "
            "department on 17/05/2021.\nDiagnosis: Febrile neutropenia after the first cycle of R-CHOP.\n"
            "Findings: Temperature 38.9 C, heart rate 108/min, blood pressure 118/72 mmHg. Leukocytes 0.6 G/l, "
            "neutrophils 0.2 G/l, hemoglobin 10.1 g/dl, platelets 98 G/l. C-reactive protein 86 mg/l. Blood "
            "cultures grew Escherichia coli.\nCourse: Empirical therapy with piperacillin-tazobactam was started "
            "immediately and the fever resolved within 48 hours. Filgrastim was given until neutrophil recovery. "
            "No focus other than bacteremia was found; chest x-ray was normal.\nRecommendation: For the following "
            "cycles, primary prophylaxis with pegfilgrastim is recommended.",
            "Dear colleague, we report on the interim staging of Mrs. Greta Holloway, born 14/03/1956, after four "
            "cycles of R-CHOP, seen on 12/08/2021.\nFindings: PET-CT showed a complete metabolic response "
            "(Deauville score 2) of all previously involved lymph node regions. LDH normalized to 198 U/l.\n"
            "Tolerance: Grade 1 peripheral neuropathy of the fingertips developed after the third cycle; the "
            "vincristine dose was reduced by 50% for cycle four. No further infections occurred with "
            "pegfilgrastim prophylaxis.\nPlan: Two further cycles of R-CHOP followed by two cycles of rituximab "
            "monotherapy, as planned.",
            "Dear colleague, we report on the end-of-treatment evaluation of Mrs. Greta Holloway, born "
            "14/03/1956, on 02/11/2021.\nTherapy completed: six cycles of R-CHOP and two cycles of rituximab. "
            "Final PET-CT confirmed ongoing complete remission.\nEchocardiography showed a left ventricular "
            "ejection fraction of 58%, unchanged from baseline despite doxorubicin exposure.\nThe neuropathy has "
            "improved and no longer limits daily activities. The patient has returned to gardening and reports "
            "good energy.\nFollow-up: clinical visits every three months for two years, with blood counts and "
            "LDH; imaging only if symptoms recur.",
        ],
        appendix=[
            'Physical examination on admission: alert, oriented, ECOG 1. Left cervical lymph node conglomerate of 4 x 3 cm, firm, not tender. No hepatosplenomegaly. Heart and lungs unremarkable.\nLaboratory on admission: hemoglobin 12.2 g/dl, leukocytes 7.9 G/l, platelets 301 G/l, creatinine 0.8 mg/dl, uric acid 6.1 mg/dl, hepatitis B and C serology negative, HIV negative.\nEchocardiography before therapy: left ventricular ejection fraction 60%.\nMedication on discharge: allopurinol 300 mg daily, aciclovir 400 mg twice daily, cotrimoxazole 960 mg three times weekly, pantoprazole 40 mg daily, ramipril 2.5 mg daily.',
            'Physical examination: reduced general condition, mucositis grade 1, no skin lesions, port site without redness, lungs clear, abdomen soft and non-tender.\nLaboratory on discharge (21/05/2021): leukocytes 4.8 G/l, neutrophils 2.9 G/l, hemoglobin 9.8 g/dl, platelets 142 G/l, C-reactive protein 12 mg/l.\nMedication on discharge: amoxicillin-clavulanate 875/125 mg twice daily for seven more days, allopurinol 300 mg daily, aciclovir 400 mg twice daily, cotrimoxazole 960 mg three times weekly.\nThe second cycle of R-CHOP was postponed by one week.',
            'Physical examination: no palpable lymph nodes, reduced sensation to light touch at the fingertips of both hands, normal muscle strength, reflexes preserved.\nLaboratory: hemoglobin 11.4 g/dl, leukocytes 5.2 G/l, platelets 188 G/l, creatinine 0.9 mg/dl, ALT 24 U/l, bilirubin 0.6 mg/dl.\nThe patient reports mild fatigue but manages her household independently. Hair loss is complete and expected to recover after therapy.\nMedication: allopurinol was stopped; aciclovir and cotrimoxazole continue until three months after the last rituximab dose.',
            'Physical examination: good general condition, no lymphadenopathy, no hepatosplenomegaly, residual numbness limited to the tips of the index fingers.\nLaboratory: hemoglobin 12.9 g/dl, leukocytes 6.1 G/l, platelets 244 G/l, LDH 176 U/l, immunoglobulin G 6.8 g/l (slightly low, no recurrent infections).\nVaccinations against influenza and pneumococci are recommended from six months after the last rituximab infusion.\nMedication: ramipril 2.5 mg daily; aciclovir and cotrimoxazole to be stopped in February 2022.',
        ],
        questions=[
            ("Which bacterium was found in the blood cultures during the febrile neutropenia?",
             ["Staphylococcus aureus", "Escherichia coli", "Klebsiella pneumoniae", "Pseudomonas aeruginosa",
              "Enterococcus faecalis"], 1, "Blood cultures grew Escherichia coli."),
            ("Why was the vincristine dose reduced?",
             ["Febrile neutropenia", "Elevated liver enzymes", "Peripheral neuropathy", "Reduced ejection fraction",
              "Constipation"], 2, "Grade 1 peripheral neuropathy of the fingertips developed after the third cycle"),
            ("What was the Ki-67 proliferation index in the initial biopsy?",
             ["20%", "40%", "60%", "80%", "95%"], 3, "Ki-67 80%"),
        ],
    ),
    "patient_02": dict(
        name="SYNTHETIC Tobias Wren", birthday="1961-11-02", diagnosis="Hepatocellular carcinoma",
        texts=[
            "Dear colleague, we report on Mr. Tobias Wren, born 02/11/1961, treated on our gastroenterology ward "
            "from 10/01/2022 to 16/01/2022.\nDiagnoses: Alcohol-related liver cirrhosis, Child-Pugh B7. New "
            "hepatocellular carcinoma in segment VI, 3.2 cm.\nHistory: Mr. Wren was referred because surveillance "
            "ultrasound showed a new liver lesion. He has been abstinent from alcohol since 2019. Alpha-fetoprotein "
            "was 245 ng/ml.\nImaging: Contrast-enhanced MRI showed arterial hyperenhancement with washout in "
            "segment VI, LI-RADS 5. No vascular invasion and no extrahepatic disease on CT of the chest.\n"
            "Endoscopy: small esophageal varices without red signs; propranolol 20 mg twice daily was started.\n"
            "The case will be discussed in the tumor board.",
            "Dear colleague, the multidisciplinary tumor board of 20/01/2022 discussed Mr. Tobias Wren, born "
            "02/11/1961.\nFindings: single hepatocellular carcinoma of 3.2 cm in segment VI, cirrhosis Child-Pugh "
            "B7, mild portal hypertension, performance status ECOG 1.\nRecommendation: Because of the liver "
            "function, resection is not advised. Transarterial chemoembolization (TACE) of segment VI is "
            "recommended, with evaluation for liver transplantation in parallel, as the patient fulfils the "
            "Milan criteria.",
            "Dear colleague, we report on Mr. Tobias Wren, born 02/11/1961, admitted on 03/02/2022 for the first "
            "transarterial chemoembolization.\nProcedure: Selective TACE of the segment VI tumor with "
            "doxorubicin-eluting beads via the right femoral artery, without complications.\nCourse: The patient "
            "developed post-embolization syndrome with fever up to 38.4 C, nausea and right upper quadrant pain, "
            "which resolved with fluids, metamizole and ondansetron within three days. Bilirubin rose transiently "
            "from 1.6 to 2.3 mg/dl.\nDischarge on 07/02/2022 in stable condition.",
            "Dear colleague, we report on the follow-up of Mr. Tobias Wren, born 02/11/1961, on 05/05/2022.\n"
            "MRI three months after TACE showed complete necrosis of the segment VI lesion (mRECIST complete "
            "response) and no new lesions. Alpha-fetoprotein fell to 9 ng/ml.\nThe patient was listed for liver "
            "transplantation on 28/04/2022. He remains abstinent; the latest phosphatidylethanol test was "
            "negative.\nMedication: propranolol 20 mg twice daily, spironolactone 50 mg daily, lactulose as needed.",
        ],
        appendix=[
            'Physical examination: spider naevi on the chest, palmar erythema, mild splenomegaly, no ascites, no asterixis.\nLaboratory: bilirubin 1.6 mg/dl, albumin 3.1 g/dl, INR 1.3, platelets 96 G/l, creatinine 0.9 mg/dl, sodium 136 mmol/l, MELD score 11.\nMedication on discharge: propranolol 20 mg twice daily, spironolactone 50 mg daily, lactulose 10 ml as needed for a soft stool twice daily, vitamin D 1,000 IU daily.\nThe patient was counselled about a low-salt diet and continued alcohol abstinence.',
            'Participants: hepatology, visceral surgery, interventional radiology, oncology and transplant surgery.\nImaging reviewed: MRI of 12/01/2022 and CT of the chest of 13/01/2022; portal vein patent, no tumor thrombus, no lymph node enlargement.\nFurther work-up for transplantation listing includes echocardiography, cardiopulmonary exercise testing, dental assessment, psychosocial evaluation and an addiction medicine consultation. The patient agreed to all steps after a detailed discussion and wishes to proceed.\nRe-evaluation of the tumor board after the first TACE with MRI after three months.',
            'Pre-procedure laboratory: INR 1.3, platelets 91 G/l, creatinine 0.8 mg/dl.\nPost-procedure care: bed rest for six hours with a pressure bandage at the puncture site; the groin was unremarkable on the next day.\nLaboratory on discharge: bilirubin 1.8 mg/dl, ALT 96 U/l, AST 110 U/l, C-reactive protein 41 mg/l, leukocytes 9.2 G/l.\nMedication on discharge: propranolol 20 mg twice daily, spironolactone 50 mg daily, lactulose as needed, metamizole 500 mg up to four times daily for pain for five days.',
            'Physical examination: no jaundice, no ascites, no encephalopathy; the groin puncture site has healed.\nLaboratory: bilirubin 1.4 mg/dl, albumin 3.3 g/dl, INR 1.2, platelets 101 G/l, creatinine 0.9 mg/dl; MELD score 10, Child-Pugh B7 unchanged.\nTransplant work-up: echocardiography with normal function, exercise testing without ischemia, dental status sanitized.\nPlan: MRI of the liver every three months while on the waiting list, alpha-fetoprotein monthly, and repeat TACE if viable tumor reappears.',
        ],
        questions=[
            ("Why was surgical resection not recommended by the tumor board?",
             ["Vascular invasion", "Extrahepatic metastases", "Impaired liver function", "Poor performance status",
              "Tumor size above 5 cm"], 2, "Because of the liver function, resection is not advised."),
            ("Which complication followed the first chemoembolization?",
             ["Post-embolization syndrome", "Variceal bleeding", "Liver abscess", "Femoral artery pseudoaneurysm",
              "Hepatic encephalopathy"], 0, "The patient developed post-embolization syndrome"),
            ("What was the alpha-fetoprotein level at diagnosis?",
             ["9 ng/ml", "45 ng/ml", "198 ng/ml", "245 ng/ml", "412 ng/ml"], 3, "Alpha-fetoprotein was 245 ng/ml."),
        ],
    ),
    "patient_03": dict(
        name="SYNTHETIC Mira Castellan", birthday="1979-07-21", diagnosis="Systemic lupus erythematosus",
        texts=[
            "Dear colleague, we report on Ms. Mira Castellan, born 21/07/1979, who was treated on our "
            "rheumatology ward from 14/03/2023 to 24/03/2023.\nDiagnoses: Systemic lupus erythematosus with "
            "lupus nephritis class IV (ISN/RPS). Arterial hypertension.\nHistory: The patient has known lupus "
            "since 2015 with arthritis and malar rash, treated with hydroxychloroquine. She presented with leg "
            "edema and foamy urine for three weeks.\nFindings: Blood pressure 162/98 mmHg. Proteinuria 3.8 g/day, "
            "active urinary sediment with red cell casts, creatinine 1.4 mg/dl. Anti-dsDNA strongly positive, "
            "complement C3 and C4 low.\nKidney biopsy on 16/03/2023 confirmed class IV lupus nephritis.\nTherapy: "
            "Induction with three methylprednisolone pulses followed by oral prednisolone and mycophenolate "
            "mofetil 1.5 g twice daily. Ramipril was started for blood pressure and proteinuria.",
            "Dear colleague, we report on the outpatient visit of Ms. Mira Castellan, born 21/07/1979, on "
            "02/06/2023.\nProteinuria decreased to 1.1 g/day and creatinine to 1.0 mg/dl. Prednisolone was tapered "
            "to 10 mg daily.\nThe patient reported diarrhea since the mycophenolate dose increase; it improved "
            "after switching to enteric-coated mycophenolate sodium.\nBlood pressure 128/80 mmHg on ramipril 5 mg.",
            "Dear colleague, we report on Ms. Mira Castellan, born 21/07/1979, admitted as an emergency on "
            "19/09/2023 with left-sided chest pain worse on inspiration.\nFindings: pericardial rub, ECG with "
            "diffuse ST elevation, small pericardial effusion on echocardiography without tamponade. Troponin "
            "normal. D-dimer negative.\nDiagnosis: lupus serositis with pericarditis.\nTherapy: colchicine 0.5 mg "
            "twice daily and a temporary increase of prednisolone to 20 mg, with rapid improvement.",
            "Dear colleague, we report on the annual review of Ms. Mira Castellan, born 21/07/1979, on 12/03/2024.\n"
            "Lupus nephritis is in complete renal response with proteinuria of 0.3 g/day. Anti-dsDNA titers are "
            "declining and complement levels have normalized.\nOphthalmology screening for hydroxychloroquine "
            "retinopathy was normal. Bone density showed osteopenia, so calcium, vitamin D and alendronate were "
            "started.\nPlan: continue mycophenolate sodium and hydroxychloroquine; taper prednisolone to 5 mg.",
        ],
        appendix=[
            'Physical examination: pitting edema of both lower legs, malar erythema, no synovitis, no oral ulcers, heart and lungs unremarkable.\nFurther laboratory: hemoglobin 10.8 g/dl, leukocytes 3.9 G/l, lymphocytes 0.8 G/l, platelets 172 G/l, albumin 2.6 g/dl, total cholesterol 284 mg/dl; antiphospholipid antibodies negative.\nMedication on discharge: prednisolone 50 mg daily with a taper plan, mycophenolate mofetil 1.5 g twice daily, hydroxychloroquine 200 mg twice daily, ramipril 2.5 mg daily, atorvastatin 20 mg daily, pantoprazole 40 mg daily, calcium and vitamin D, cotrimoxazole 480 mg daily.',
            'Physical examination: minimal ankle edema, no rash, no arthritis, weight 2 kg lower than at discharge.\nLaboratory: hemoglobin 11.9 g/dl, leukocytes 4.6 G/l, albumin 3.4 g/dl, anti-dsDNA 180 IU/ml (previously 640 IU/ml), C3 0.72 g/l.\nThe patient has returned to work as a teacher with reduced hours. Contraception was discussed because mycophenolate is teratogenic; she uses an intrauterine device.\nMedication: prednisolone 10 mg daily, mycophenolate sodium 720 mg twice daily, hydroxychloroquine 200 mg twice daily, ramipril 5 mg daily, atorvastatin 20 mg daily, cotrimoxazole 480 mg daily.',
            'Physical examination: pericardial friction rub at the left sternal border, temperature 37.9 C, blood pressure 124/78 mmHg, no signs of heart failure, no arthritis.\nLaboratory: C-reactive protein 38 mg/l, leukocytes 5.8 G/l, anti-dsDNA 220 IU/ml, C3 0.68 g/l, creatinine 0.9 mg/dl, proteinuria 0.6 g/day.\nEchocardiography on day 4 showed regression of the effusion. The patient was discharged on day 5.\nMedication on discharge: colchicine 0.5 mg twice daily for three months, prednisolone 20 mg daily tapering by 2.5 mg weekly to 10 mg, other medication unchanged.',
            'Physical examination: no active skin or joint disease, blood pressure 122/76 mmHg, body mass index 24.\nLaboratory: hemoglobin 12.8 g/dl, leukocytes 5.1 G/l, creatinine 0.8 mg/dl, anti-dsDNA 60 IU/ml, C3 0.98 g/l, LDL cholesterol 96 mg/dl.\nBone density: T-score -1.9 at the lumbar spine and -1.6 at the femoral neck.\nMedication: prednisolone 5 mg daily, mycophenolate sodium 720 mg twice daily, hydroxychloroquine 200 mg twice daily, ramipril 5 mg daily, atorvastatin 20 mg daily, alendronate 70 mg weekly, calcium and vitamin D.\nNext review in six months, earlier in case of edema, chest pain or rash.',
        ],
        questions=[
            ("Which class of lupus nephritis was found in the kidney biopsy?",
             ["Class II", "Class III", "Class IV", "Class V", "Class VI"], 2,
             "Kidney biopsy on 16/03/2023 confirmed class IV lupus nephritis."),
            ("Why was mycophenolate mofetil switched to mycophenolate sodium?",
             ["Leukopenia", "Diarrhea", "Elevated liver enzymes", "Hair loss", "Pregnancy wish"], 1,
             "it improved after switching to enteric-coated mycophenolate sodium"),
            ("What was the diagnosis during the emergency admission in September 2023?",
             ["Pulmonary embolism", "Myocardial infarction", "Pneumonia", "Lupus pericarditis",
              "Cardiac tamponade"], 3, "Diagnosis: lupus serositis with pericarditis."),
        ],
    ),
}


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------
def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def write_mednli(out: Path) -> None:
    lines = []
    for i, (s1, s2, label) in enumerate(MEDNLI, start=1):
        lines.append(json.dumps({"sentence1": s1, "pairID": f"{MARK}-mednli-{i:04d}", "sentence2": s2,
                                 "gold_label": label}, ensure_ascii=False))
    _write(out / "mednli" / "mli_test_v1.jsonl", "\n".join(lines) + "\n")


def _reproducible_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps (entries and document properties) so the .xlsx bytes
    do not depend on the clock."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the clock on save
                payload = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + FIXED_STAMP, payload)
            dst.writestr(fixed, payload)
    return buf.getvalue()


def write_meqsum(out: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "QS"
    ws.append(["File", "CHQ", "Summary"])
    for i, (subject, message, summary) in enumerate(MEQSUM, start=1):
        ws.append([f"{MARK}-meqsum-{i:04d}.xml.txt", f"SUBJECT: {subject}\nMESSAGE: {message}", summary])
    wb.properties.title = "SYNTHETIC demo data for cluebench (invented questions, not MeQSum)"
    wb.properties.creator = "cluebench make_demo.py"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    path = out / "meqsum" / "MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_reproducible_zip(buf.getvalue()))


def write_problem_summary(out: Path) -> None:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["File ID", "Assessment", "Subjective Sections", "Objective Sections", "Summary"])
    for i, (subj, obj, assessment, summary) in enumerate(PROBLEM_SUMMARY, start=1):
        writer.writerow([f"{MARK}-ps-{i:04d}.txt", assessment, subj, obj, summary])
    _write(out / "problem_summary" / "BioNLP2023-1A-Test.csv", buf.getvalue())


def note_text(note: dict, *, with_instructions: bool) -> str:
    """A MIMIC-IV-style discharge summary; paragraphs separated by two blank lines as upstream."""
    parts = [
        f"{NOTE_BANNER}\n \nName:  ___                     Unit No:   ___\n \nAdmission Date:  ___"
        f"              Discharge Date:   ___\n \nSex:   {note['sex']}\n \nService: {note['service']}",
        f"Chief Complaint:\n{note['complaint']}",
        f"History of Present Illness:\n{note['hpi']}",
        f"Past Medical History:\n{note['pmh']}",
        f"Brief Hospital Course:\n{note['course']}",
        f"Discharge Diagnosis:\n{note['diagnoses']}",
        "Discharge Condition:\nMental Status: Clear and coherent.\nActivity Status: Ambulatory - Independent.",
    ]
    if with_instructions and note["instructions"]:
        parts.append(f"Discharge Instructions:\nDear ___,\n\n{note['instructions']}\n\n"
                     "Sincerely,\nYour ___ Care Team")
    parts.append("Followup Instructions:\n___")
    return "\n \n \n".join(parts) + "\n"


def write_medisumqa(out: Path) -> None:
    records = []
    for note in NOTES:
        for question, answer in note["qa"]:
            records.append({"note_id": note["note_id"], "discharge_summary": note_text(note, with_instructions=False),
                            "Question": question, "Answer": answer})
    _write(out / "medisumqa" / "MeDiSumQA.json", json.dumps(records, indent=2, ensure_ascii=False) + "\n")


def write_medisumcode(out: Path) -> None:
    records = [{"hadm_id": note["hadm_id"], "text": note_text(note, with_instructions=True),
                "icd_codes": [{"code": c, "description": d} for c, d in note["codes"]]} for note in NOTES]
    _write(out / "medisumcode" / "MeDiSumCode.json", json.dumps(records, indent=2, ensure_ascii=False) + "\n")


def write_longhealth(out: Path) -> None:
    data = {}
    for pid, patient in LONGHEALTH.items():
        texts = {f"text_{i}": f"{body}\n{extra}" for i, (body, extra) in enumerate(zip(patient["texts"],
                                                                                     patient["appendix"]))}
        questions = []
        for no, (question, options, correct, evidence) in enumerate(patient["questions"], start=1):
            location = {}
            for tid, doc in texts.items():
                pos = doc.find(evidence)
                if pos >= 0:
                    location[tid] = {"start": [round(pos / len(doc), 4)],
                                     "end": [round((pos + len(evidence)) / len(doc), 4)]}
            if not location:
                raise ValueError(f"{pid} question {no}: evidence not found in any text")
            q = {"No": no, "question": question}
            q.update({f"answer_{letter}": opt for letter, opt in zip("abcde", options)})
            q.update({"correct": options[correct], "answer_location": location})
            questions.append(q)
        data[pid] = {"name": patient["name"], "birthday": patient["birthday"], "diagnosis": patient["diagnosis"],
                     "texts": texts, "questions": questions}
    _write(out / "longhealth" / "benchmark_v5.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")


WRITERS = (write_mednli, write_meqsum, write_problem_summary, write_longhealth, write_medisumqa, write_medisumcode)


def main(out: Path | None = None) -> Path:
    out = Path(out) if out is not None else Path(__file__).resolve().parent
    for writer in WRITERS:
        writer(out)
    return out


if __name__ == "__main__":
    print(f"wrote the synthetic demo set to {main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)}")
