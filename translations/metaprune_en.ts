<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>QObject</name>
    <message>
        <location filename="../widgets/budgetview.cpp" line="37"/>
        <source>%1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="38"/>
        <source>%1 M MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="39"/>
        <source>candidate %1 (%2), %3, top-1 %4%</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ReportChart</name>
    <message>
        <location filename="../widgets/reportchart.cpp" line="13"/>
        <source>searched</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="14"/>
        <source>searched (MetaPruning)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="15"/>
        <source>uniform</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="16"/>
        <source>uniform width multiplier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="68"/>
        <source>test top-1 (%)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="69"/>
        <source>test top-1 after retraining (%; axis from %1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="97"/>
        <source>one result each (n = 1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="99"/>
        <source>mean ± sd over %1 results</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="100"/>
        <source>mean ± sd (n = %1 vs %2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="102"/>
        <source>%1, axis from %2%</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="105"/>
        <source>%1: searched vs uniform, one result each (n=1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="107"/>
        <source>%1: searched vs uniform, mean ± sd over %2 results</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="111"/>
        <source>%1: searched vs uniform, mean ± sd (n = %2 vs %3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportchart.cpp" line="126"/>
        <source>%1: cannot write the PNG file</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::BudgetView</name>
    <message>
        <location filename="../widgets/budgetview.cpp" line="49"/>
        <location filename="../widgets/budgetview.cpp" line="484"/>
        <source>Play</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="50"/>
        <source>Export heat map...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="53"/>
        <location filename="../widgets/budgetview.cpp" line="240"/>
        <source>All runs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="55"/>
        <source>Whose Pareto front the slider walks: every run shown on the plot, or one search run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="58"/>
        <source>Budget: the best stored structure that costs at most this much</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="63"/>
        <source>Sweep the budget from the full network to the smallest structure and back</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="67"/>
        <location filename="../widgets/budgetview.cpp" line="292"/>
        <source>No searched structures yet: run a search, and the best structure within each budget appears here.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="71"/>
        <source>Front of</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="73"/>
        <source>Budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="80"/>
        <source>maximum width</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="85"/>
        <source>best searched</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="89"/>
        <source>uniform</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="101"/>
        <source>channels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="118"/>
        <source>fraction of channels kept</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="128"/>
        <source>layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="181"/>
        <source>PNG image (*.png)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="181"/>
        <source>SVG drawing (*.svg)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="184"/>
        <source>Export the widths-vs-budget heat map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="249"/>
        <source>at most %1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="250"/>
        <source>at most %1 MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="252"/>
        <source>settings unreadable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="255"/>
        <source>Search run %1 (%2, %3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="283"/>
        <source> ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="283"/>
        <source> M MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="287"/>
        <source>budget: predicted latency (ms)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="288"/>
        <source>budget: MACs (millions)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="326"/>
        <source>Budget %1 ms: </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="327"/>
        <source>Budget %1 M MACs: </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="328"/>
        <source>&lt;b&gt;best searched&lt;/b&gt; %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="329"/>
        <source>no searched structure fits</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="330"/>
        <source>&lt;br&gt;&lt;b&gt;uniform&lt;/b&gt; %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="331"/>
        <source>&lt;br&gt;no uniform baseline fits</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="333"/>
        <source>&lt;br&gt;searched %1 uniform by &lt;b&gt;%2%3 points&lt;/b&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="334"/>
        <source>ahead of</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="334"/>
        <source>behind</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="456"/>
        <source>%1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="457"/>
        <source>%1 M MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="458"/>
        <source>%1 (layer %2 of %3)
budget %4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="464"/>
        <source>
%1 of %2 channels (%3%) in candidate %4
click to select it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="484"/>
        <source>Stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="529"/>
        <source>Widths vs budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="530"/>
        <source>Fraction of each layer&apos;s channels kept by the best stored structure within each budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="540"/>
        <source>%1: the heat map exports as .png or .svg</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/budgetview.cpp" line="543"/>
        <source>%1: cannot write the heat map</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::MainWindow</name>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="76"/>
        <location filename="../widgets/mainwindow.cpp" line="208"/>
        <location filename="../widgets/mainwindow.cpp" line="485"/>
        <source>MetaPrune Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="90"/>
        <source>Training</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="91"/>
        <source>Search</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="92"/>
        <source>Reports</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="93"/>
        <source>Structure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="94"/>
        <source>Budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="127"/>
        <source>Loading data; checkpoint %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="129"/>
        <source>Demo, step 1 of 2: training the PruningNet (progress in the Training tab); the search at 50% of the full MACs follows.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="131"/>
        <source>Training the PruningNet (progress in the Training tab).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="138"/>
        <source>Training %1 finished.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="139"/>
        <source>Training cancelled; the checkpoint %1 is saved. Train again with the same settings to resume.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="148"/>
        <source>Training cancelled; its checkpoint is saved.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="158"/>
        <source>Training failed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="182"/>
        <location filename="../widgets/mainwindow.cpp" line="186"/>
        <source>Search run %1 finished.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="183"/>
        <source>Search run %1 cancelled; its candidates are stored. Search again with the same settings to resume.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="187"/>
        <source>Search run %1 cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="204"/>
        <source>Search refused: the PruningNet has not learned.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="212"/>
        <source>Search anyway</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="242"/>
        <source>Search failed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="288"/>
        <source>Exported %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="304"/>
        <source>Candidate %1 was already retrained with this recipe: %2% test top-1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="308"/>
        <source>Candidate %1 retrained: %2% test top-1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="317"/>
        <source>Comparison finished; the report is stored in the project.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="327"/>
        <source>Fidelity over %1 structures: Kendall&apos;s tau %2, Spearman&apos;s rho %3.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="389"/>
        <source>Open or create a project (File menu) to start.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="408"/>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="409"/>
        <source>&amp;Open or New Project...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="410"/>
        <source>Open or create a project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="411"/>
        <source>MetaPrune projects (*.sqlite);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="417"/>
        <source>New Project from &amp;Architecture File or ONNX Model...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="419"/>
        <source>Architecture to prune</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="420"/>
        <source>Architecture files and ONNX models (*.arch.json *.json *.onnx);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="423"/>
        <source>New project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="425"/>
        <source>MetaPrune projects (*.sqlite)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="429"/>
        <source>Open &amp;Recent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="431"/>
        <source>&amp;Export Selected Structure...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="434"/>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="436"/>
        <source>&amp;Edit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="437"/>
        <source>&amp;Undo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="439"/>
        <source>&amp;Redo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="444"/>
        <source>&amp;Run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="445"/>
        <source>&amp;Train PruningNet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="446"/>
        <source>&amp;Search</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="448"/>
        <source>&amp;Retrain Selected Structure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="449"/>
        <source>Compare with &amp;Uniform Baselines</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="450"/>
        <source>Measure &amp;Fidelity of the PruningNet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="452"/>
        <source>&amp;Cancel Running Jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="454"/>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="455"/>
        <source>&amp;About MetaPrune Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="456"/>
        <source>About MetaPrune Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="457"/>
        <source>MetaPrune Studio: MetaPruning channel pruning (Liu et al., ICCV 2019) made visible.
MACs are conv + linear multiply-accumulates per image (the paper&apos;s FLOPs).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="503"/>
        <source>Finish or cancel the running training or search before opening another project.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="518"/>
        <source>%1 - MetaPrune Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="534"/>
        <source>Project %1 opened.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="535"/>
        <source>New project %1: choose the data and press Train.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="555"/>
        <source>Architecture %1: %2 genes, %3 MACs at full width. Choose the data and press Train.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="581"/>
        <source>Training %1: %2, %3/%4 steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="588"/>
        <source>; %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="589"/>
        <source>; NOT LEARNED: %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="642"/>
        <source>Trust in the ranking: the stored study cannot be read (%1).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="648"/>
        <source>&lt;b&gt;The PruningNet has not learned&lt;/b&gt; (%1): its ranking of structures is not meaningful. </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="662"/>
        <source>this is the uniform network itself</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="721"/>
        <source>candidate %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="729"/>
        <source>1 damaged stored row kept off the plot and the front (candidate %1); hover for the reason.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="731"/>
        <source>%1 damaged stored rows kept off the plot and the front (candidates %2); hover for the reasons.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="757"/>
        <source>Loading the PruningNet %1 ...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="782"/>
        <source>table %1 (stored)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="793"/>
        <source>PruningNet loaded: drag a bar to probe a structure, or run a search.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="829"/>
        <source>Candidate %1 is damaged in the project (%2): it is not shown.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="877"/>
        <source>Open or create a project first (File &gt; Open or New Project).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="881"/>
        <location filename="../widgets/mainwindow.cpp" line="902"/>
        <location filename="../widgets/mainwindow.cpp" line="946"/>
        <source>A training or search is already running.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="886"/>
        <source>Training the PruningNet: loading the data...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="898"/>
        <source>Train a PruningNet first: the search evaluates structures with its generated weights.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="914"/>
        <source>Searching on %1 processes: MACs in [%2, %3]</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="915"/>
        <source>Searching: MACs in [%2, %3]</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="919"/>
        <source>Demo, step 2 of 2: searching structures with MACs in [%1, %2]; every evaluated candidate lands on the plot.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="921"/>
        <source>Searching structures with MACs in [%1, %2]; every evaluated candidate lands on the plot.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="942"/>
        <source>Train a PruningNet first: the latency table is measured for its architecture.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="979"/>
        <source>Train a PruningNet first: retraining reports compare with its predictions.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="983"/>
        <source>A training, search or report is already running.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="1001"/>
        <source>Demo finished: search run %1 has no structure within its constraint.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="1014"/>
        <source>Demo finished: the best structure within %1 MACs is candidate %2, %3 MACs, top-1 %4%</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="1020"/>
        <source>, against the uniform network&apos;s %1% at %2 MACs (%3%4 points)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="1025"/>
        <source>. Press Play in the Budget tab to sweep the budget.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="1072"/>
        <source>Select a structure on the plot (or probe one) before retraining it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="1078"/>
        <source>Loading data to retrain candidate %1...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="1094"/>
        <source>Loading data for the comparison...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="1114"/>
        <source>Loading data for the fidelity study...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="1143"/>
        <source>Nothing to export: train a PruningNet and select a structure first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="1146"/>
        <source>TorchScript (*.pt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="1146"/>
        <source>ONNX (*.onnx)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="1147"/>
        <source>LibTorch tensor archive (*.archive.pt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/mainwindow.cpp" line="1149"/>
        <source>Export pruned network</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::ParetoPlot</name>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="50"/>
        <source>top-1 on the search split (%)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="49"/>
        <location filename="../widgets/paretoplot.cpp" line="127"/>
        <source>MACs per image (millions, conv + linear)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="126"/>
        <source>predicted latency per image (ms, latency table)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="149"/>
        <source>gain: search ahead</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="155"/>
        <source>gain: uniform ahead</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="161"/>
        <source>front: searched</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="165"/>
        <source>front: uniform</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="169"/>
        <source>uniform networks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="174"/>
        <source>selected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="177"/>
        <source>compared</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="179"/>
        <source>probe (refining)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="213"/>
        <source>generation %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="309"/>
        <source>at %1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="309"/>
        <source>at %1 M MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="313"/>
        <source>%1:
searched %2%, uniform %3% (%4%5)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="320"/>
        <source>%1: searched %2%, no uniform network within</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="322"/>
        <source>%1: uniform %2%, no searched structure within</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="324"/>
        <source>%1: nothing stored within this budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="463"/>
        <source>top-1 %1%</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="465"/>
        <source>top-1 %1% (95% interval %2 to %3%, %4 images)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/paretoplot.cpp" line="472"/>
        <source>%1 (run %2, generation %3)
%4
%5 M MACs
%6 params
%7 ms predicted</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::ReportPanel</name>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="22"/>
        <source>&amp;Retrain selected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="22"/>
        <source>Compare with &amp;uniform</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="23"/>
        <source>Measure &amp;fidelity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="24"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="27"/>
        <source>from scratch (paper)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="28"/>
        <source>fine-tune generated weights</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="29"/>
        <source>Retrain with a fresh initialisation, as the paper does, or start from the PruningNet&apos;s generated weights</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="35"/>
        <source>Each structure of the comparison is retrained once per seed: mean and spread</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="38"/>
        <source>Structures sampled across the MACs range for the fidelity study</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="40"/>
        <source>Retraining</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="41"/>
        <source>Epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="42"/>
        <source>Seeds (compare)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="43"/>
        <source>Structures (fidelity)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="49"/>
        <source>Best searched structure vs uniform width multiplier at 50%, 25% and 12.5% of the full MACs, both retrained with the same recipe and seeds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="51"/>
        <source>Rank correlation between the PruningNet&apos;s predicted top-1 and top-1 after a short retraining</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="107"/>
        <source>%1: %2 of %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="115"/>
        <source>No comparison yet. *Compare with uniform* searches at 50%, 25% and 12.5% of the full MACs (or reuses those searches), then retrains the best searched structure and the uniform baseline of equal-or-higher MACs with the same recipe and seeds.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="133"/>
        <source>Candidate %1 has not been retrained.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="151"/>
        <source>Trust in the ranking: not measured (Reports &gt; Measure fidelity retrains a sample of structures and compares; `metaprune fidelity --band` measures inside a band).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="153"/>
        <source>over the whole MACs range</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="154"/>
        <source>inside %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="157"/>
        <source>Trust in the ranking %1: undefined over %2 structures, their retrained accuracies are all equal (retrain longer: more epochs in the Reports tab).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="165"/>
        <source>Trust in the ranking %1: PruningNet top-1 vs retrained top-1 over %2 structures: Kendall&apos;s τ = %3%4, Spearman&apos;s ρ = %5 (MACs alone: τ = %6%7, ρ = %8; 95% intervals)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="141"/>
        <source>fine-tuned</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="139"/>
        <source>%1% test top-1 (%2, %3, seed %4, %5)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="141"/>
        <source>from scratch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="142"/>
        <source>1 epoch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="142"/>
        <source>%1 epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/reportpanel.cpp" line="146"/>
        <source>Candidate %1 retrained: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::ReportWorker</name>
    <message>
        <location filename="../widgets/workers.cpp" line="252"/>
        <source>Retraining cancelled; nothing was stored.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/workers.cpp" line="273"/>
        <source>Comparison cancelled; the searches and retrainings finished so far are stored and will be reused.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/workers.cpp" line="294"/>
        <source>Fidelity study cancelled; the retrainings finished so far are stored and will be reused.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::SearchPanel</name>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="26"/>
        <source>&amp;Search</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="27"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="33"/>
        <source>Largest MACs allowed, in percent of the full-width network</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="37"/>
        <source>Smallest MACs allowed (0 = no lower bound): together with the maximum, a band</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="46"/>
        <source>Processes that score each generation&apos;s candidates: the app and %1 search-rank processes on this machine, each with the app&apos;s thread count. The stored results are those of a one-process search with the same seed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="49"/>
        <source>processes - 1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="50"/>
        <source>by origin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="50"/>
        <source>by generation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="55"/>
        <source>off</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="57"/>
        <source>Largest predicted latency allowed, from this machine&apos;s per-layer latency table</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="58"/>
        <source>predicted latency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="59"/>
        <source>Time every layer at a grid of widths on this machine (a background job); needed for latency constraints and the latency axis</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="65"/>
        <source>Max MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="66"/>
        <source>Min MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="67"/>
        <source>Population</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="68"/>
        <source>Generations</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="69"/>
        <source>Seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="70"/>
        <source>Processes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="71"/>
        <source>Max latency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="72"/>
        <source>Min latency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="73"/>
        <source>Colour points</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="74"/>
        <source>Error bars on every point: the 95% Wilson interval of its top-1 over the search-split images it was measured on. Points whose bars overlap may not differ at all.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="77"/>
        <source>Error bars</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="78"/>
        <source>x axis</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="84"/>
        <source>run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="84"/>
        <source>kind</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="106"/>
        <source>Latency table: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="107"/>
        <source>No latency table for this machine yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="113"/>
        <source>Measuring layer latencies: %1 of %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="58"/>
        <location filename="../widgets/searchpanel.cpp" line="84"/>
        <source>MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="23"/>
        <source>95% intervals</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="25"/>
        <source>Measure latency table</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="84"/>
        <source>status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/searchpanel.cpp" line="84"/>
        <source>points</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::SearchWorker</name>
    <message>
        <location filename="../widgets/workers.cpp" line="231"/>
        <source>Latency measurement cancelled; nothing was stored.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::StructurePanel</name>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="45"/>
        <source>Compare with next clicked point</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="46"/>
        <source>&amp;Export...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="49"/>
        <source>Undo width edit (Ctrl+Z)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="52"/>
        <source>Redo width edit (Ctrl+Shift+Z)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="86"/>
        <source>Select a point on the plot, or drag a bar to edit a structure.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="94"/>
        <source>%1: %2 -&gt; %3 channels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="99"/>
        <location filename="../widgets/structurepanel.cpp" line="117"/>
        <source>Edited structure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="100"/>
        <location filename="../widgets/structurepanel.cpp" line="118"/>
        <source>top-1: probing...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="126"/>
        <source>Candidate %1: %2, run %3, generation %4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="140"/>
        <source>%1 M MACs (%2% of full), %3 params</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="147"/>
        <source>top-1: %1% (search split)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="148"/>
        <source>top-1: ~%1% (quick estimate, refining...)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="150"/>
        <source>Probed structure (stored as candidate %1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="157"/>
        <source>Paired test on the same search-split images: computing...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="159"/>
        <source>Uniform baseline: none evaluated at equal or higher MACs yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="162"/>
        <source>Uniform baseline at %1 M MACs (equal or higher): top-1 %2%  -&gt;  %3%4 points</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="171"/>
        <source>Compared (blue outline): candidate %1, %2 M MACs, top-1 %3%</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/structurepanel.cpp" line="181"/>
        <source>Paired test on the same search-split images: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::TrainingPanel</name>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="37"/>
        <source>&amp;Train</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="38"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="41"/>
        <source>...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="42"/>
        <source>Choose a data folder: IDX files, CIFAR binary batches, or one folder per class</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="44"/>
        <source>Data folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="53"/>
        <source>MobileNetV2 (stage + mid genes), MobileNetV1 (one gene per conv), ResNet (stage genes shared by the shortcuts, mid genes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="56"/>
        <source>small: sized for 28x28 / 32x32 data (ResNet: ResNet-20); paper: the reference widths (ResNet: ResNet-50)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="65"/>
        <source>Probability of training the full-width network in a step (0 = the reference&apos;s pure random sampling)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="70"/>
        <source>Data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="71"/>
        <source>Format</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="72"/>
        <source>Architecture</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="73"/>
        <source>Preset</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="74"/>
        <source>Epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="75"/>
        <source>Batch size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="76"/>
        <source>Learning rate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="77"/>
        <source>Full-width probability</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="78"/>
        <source>Seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="95"/>
        <location filename="../widgets/trainingpanel.cpp" line="101"/>
        <source>loss</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="98"/>
        <source>training top-1 (%)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="100"/>
        <source>step</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="102"/>
        <source>top-1 (%)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="165"/>
        <source>%1 (file)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="188"/>
        <source>PruningNet: %1 M parameters; training at batch %2 needs about %3 GiB (%4x%5 input) of the %6 GiB available%7</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="196"/>
        <source>: it will not fit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/trainingpanel.cpp" line="232"/>
        <source>Epoch %1, step %2/%3, loss %4, training top-1 %5% (random structures), ETA %6</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mpw::WidthEditor</name>
    <message>
        <location filename="../widgets/widtheditor.cpp" line="27"/>
        <source>maximum width</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/widtheditor.cpp" line="31"/>
        <location filename="../widgets/widtheditor.cpp" line="40"/>
        <source>channels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/widtheditor.cpp" line="35"/>
        <source>compared</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/widtheditor.cpp" line="43"/>
        <source>layer (block number + expand / depthwise / project)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
